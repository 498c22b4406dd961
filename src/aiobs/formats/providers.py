"""Provider names as formats spell them -> the short ids aiobs (and genai-prices) use.

OTel GenAI writes `aws.bedrock`, `gcp.vertex_ai`, `azure.ai.openai` (older data: `az.ai.openai`);
OpenInference `mistralai`, `xai`; LiteLLM `bedrock`, `vertex_ai`, `together_ai`. Pricing looks models up
by provider, so these are brought to one spelling; a name not listed is kept as logged (lower-cased).
"""

from __future__ import annotations

import polars as pl

PROVIDER_ALIASES: dict[str, str] = {
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "sagemaker": "aws",
    "amazon": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "azure_ai": "azure",
    "azure_openai": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gemini": "google",
    "google_genai": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "ibm.watsonx.ai": "ibm",
    "watsonx": "ibm",
    "perplexity_ai": "perplexity",
    "cohere_chat": "cohere",
}


def normalize_provider(expr: pl.Expr) -> pl.Expr:
    """Lower-cased, with known aliases replaced by aiobs's id for the provider."""
    lowered = expr.str.strip_chars().str.to_lowercase()
    return pl.when(lowered != "").then(lowered.replace(PROVIDER_ALIASES))
