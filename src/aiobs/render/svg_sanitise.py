"""The check every chart passes before the report inlines it: an allow-list of SVG elements and attributes.

vl-convert writes the charts' SVG; log text reaches it only as escaped label text. Before a chart is
inlined it is parsed and refused (ChartError, the report is not written) if it holds anything outside
the allow-list: no script, no event handler, no link, no `style`, no foreign object, so the report's
strict Content-Security-Policy holds. The check also gives each mark a native tooltip (`<title>` from
its aria-label), prefixes element IDs so several charts can share one page, and cuts coordinates to two
decimals (a third smaller file).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_ALLOWED_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "path",
        "rect",
        "line",
        "text",
        "tspan",
        "title",
        "defs",
        "clipPath",
        "circle",
        "polygon",
        "polyline",
        "linearGradient",
        "stop",
    }
)
_ALLOWED_ATTRIBUTES = frozenset(
    {
        "xmlns",
        "version",
        "class",
        "width",
        "height",
        "viewBox",
        "x",
        "y",
        "x1",
        "x2",
        "y1",
        "y2",
        "dx",
        "dy",
        "cx",
        "cy",
        "r",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "opacity",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "clip-path",
        "id",
        "role",
        "aria-label",
        "aria-roledescription",
        "aria-hidden",
        "pointer-events",
        "display",
        "shape-rendering",
        "paint-order",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
    }
)
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_LONG_DECIMAL = re.compile(r"(-?\d+\.\d\d)\d+")
#: Attributes holding coordinates: Vega writes them with 15 digits; two decimals are a hundredth of a pixel.
_GEOMETRY = frozenset(
    {"d", "transform", "x", "y", "x1", "x2", "y1", "y2", "width", "height", "points", "cx", "cy", "r"}
)


class ChartError(RuntimeError):
    """vl-convert produced SVG that may not be inlined (a bug: the report is not written)."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def safe_svg(svg: str, *, prefix: str) -> str:
    """The SVG checked against the allow-list, with tooltips and IDs unique to this chart."""
    root = ET.fromstring(svg)  # from vl-convert, not from the logs: no DTD, no entities
    ids: dict[str, str] = {}
    for element in root.iter():
        tag = _local(element.tag)
        if tag not in _ALLOWED_ELEMENTS:
            msg = f"chart {prefix}: element <{tag}> is not allowed in an inlined chart"
            raise ChartError(msg)
        for name in list(element.attrib):
            if _local(name) not in _ALLOWED_ATTRIBUTES:
                msg = f"chart {prefix}: attribute {_local(name)!r} on <{tag}> is not allowed in an inlined chart"
                raise ChartError(msg)
        if "id" in element.attrib:
            ids[element.attrib["id"]] = f"{prefix}-{element.attrib['id']}"
    for element in root.iter():
        if "id" in element.attrib:
            element.attrib["id"] = ids[element.attrib["id"]]
        for name, value in element.attrib.items():
            if "url(#" in value:
                element.attrib[name] = _URL_REF.sub(lambda m: f"url(#{ids.get(m.group(1), m.group(1))})", value)
            elif name in _GEOMETRY:
                element.attrib[name] = _LONG_DECIMAL.sub(r"\1", value)
        label = element.attrib.get("aria-label")
        if label and element.attrib.get("role") == "graphics-symbol" and _local(element.tag) != "g":
            # A native tooltip, which also names the mark for screen readers (so the aria-label can go).
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = label
            element.insert(0, title)
            del element.attrib["aria-label"]
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")
