"""The text pools `aiobs sample` draws on: prompts, a knowledge base, refusals, personal data and JSON tasks.

They are fixed (seeded with constants), so they never depend on the caller's seed; aiobs.sample.apps and
aiobs.sample.answers decide which of them each request gets.
"""

from __future__ import annotations

import random
import re
from typing import Any, Final

CHAT_INPUTS: Final = (
    "How do I reset my password?",
    "Can you summarize this email thread for me?",
    "Write a haiku about Mondays.",
    "What's the difference between a Roth IRA and a traditional IRA?",
    "Translate 'see you tomorrow' into Japanese, please.",
    'My order #A-20931 says "delivered" but nothing arrived. What now?',
    "Explain recursion to a 10 year old.",
    "Draft a polite reply declining the meeting on Thursday.",
    "Why does my Python script say `ModuleNotFoundError: No module named 'yaml'`?",
    "Wie kündige ich mein Abo zum Monatsende?",
    "¿Cuál es el horario de atención al cliente?",
    "Quelle est la différence entre « tu » et « vous » ?",
    "パスワードを忘れました。どうすればいいですか？",
    "帮我写一段产品介绍，100字以内。",
    "What's the weather like in Zürich this weekend?",
    "Give me three dinner ideas with chickpeas and spinach.",
    "Is it safe to run `rm -rf node_modules` while the dev server is running?",
    "Convert 72°F to Celsius and explain the formula.",
    "Can I change the delivery address after checkout?",
    "Rewrite this sentence to sound more formal: we gonna ship it next week",
    "What are the side effects of ibuprofen?",
    "Plan a 3-day trip to Lisbon on a budget.",
    "How many tokens is a 10-page PDF, roughly?",
    "Tell me a joke about databases.",
    "Fix the SQL: SELECT name, count(*) FROM users GROUP BY 1 HAVING count > 2",
    "Where is my refund? It has been 12 days.",
    "Summarize the plot of Hamlet in two sentences.",
    "Write a regex that matches ISO-8601 dates like 2026-11-28T10:00:00Z.",
    "Which plan includes SSO and audit logs?",
    "I got charged twice 😡 please help",
)
RAG_INPUTS: Final = (
    "How do I rotate my API key?",
    "What is the rate limit for the batch endpoint?",
    "Does the SDK support streaming responses in Node 18?",
    "How do I configure SAML SSO with Okta?",
    "What data residency options are available in the EU?",
    "Why am I getting HTTP 413 when uploading files?",
    "How long are request logs retained on the Enterprise plan?",
    "Can I use webhooks to get notified when an export finishes?",
    "What's the max context window for the fine-tuned models?",
    "How do I migrate from API v1 to v2?",
    "Wie richte ich die Zwei-Faktor-Authentifizierung ein?",
    "¿Cómo exporto los datos de facturación en CSV?",
    "Is there an on-prem deployment option?",
    "Which regions support private networking?",
    "How are seats counted for guest users?",
    "What does error code E1042 mean?",
    "How do I set a per-project spending cap?",
    "Can two workspaces share one billing account?",
    "What's the SLA for the Pro plan?",
    "How do I delete a user and all their data (GDPR)?",
    "APIキーの権限を制限する方法は？",
    "How to paginate the /v2/events endpoint?",
)
TOOLS: Final = (
    ("get_order_status", '{"order_id": "A-%d"}'),
    ("search_kb", '{"query": "refund policy", "top_k": %d}'),
    ("get_weather", '{"city": "Zürich", "days": %d}'),
    ("lookup_account", '{"account_id": "acct_%d"}'),
    ("run_sql", '{"sql": "SELECT count(*) FROM orders WHERE user_id = %d"}'),
    ("calculator", '{"expression": "%d * 1.19"}'),
)
_SENTENCES: Final = (
    "Sure! Here's what you can do.",
    "To reset your password, open Settings > Security and click “Reset password”.",
    "You'll receive an email with a link that expires after 30 minutes.",
    "If the link doesn't arrive, check your spam folder first.",
    'The short answer is "yes", but there are two caveats.',
    "First, the change only applies to new requests.",
    "Second, existing sessions keep their old settings until they are renewed.",
    "Here is a quick example:",
    '```python\nimport os\nkey = os.environ["API_KEY"]\nprint(len(key))\n```',
    "```sql\nSELECT name, count(*) AS n\nFROM users\nGROUP BY name\nHAVING count(*) > 2;\n```",
    "According to the documentation (section 4.2), the limit is 500 requests per minute.",
    "Batch jobs are processed within 24 hours and cost 50% less.",
    "Note: the API returns HTTP 429 when you exceed the limit; retry with exponential backoff.",
    "1. Open the dashboard.\n2. Go to *API keys*.\n3. Click **Rotate** and confirm.",
    "- Pros: faster, cheaper\n- Cons: less accurate on long documents",
    "Let me know if you'd like me to go into more detail.",
    "I hope this helps! 😊",
    "Unfortunately, I can't access your account details directly.",
    "Please contact our support team with your order number.",
    "The temperature in Zürich will be around 4 °C with light snow on Saturday.",
    "Die Kündigung ist jederzeit zum Monatsende möglich.",
    "Sie finden die Option unter „Konto“ → „Abonnement“.",
    "El horario de atención es de lunes a viernes, de 9:00 a 18:00.",
    "La différence tient surtout au degré de politesse et de familiarité.",
    "パスワードは設定画面から再発行できます。",
    "这款产品轻巧、耐用，适合日常通勤使用。",
    "Chickpea and spinach curry: sauté onion, garlic and ginger, add spices, then simmer.",
    "Recursion is when a function solves a problem by calling itself on a smaller piece of it.",
    "Think of Russian dolls: each doll contains a smaller one until you reach the tiniest.",
    "A Roth IRA is funded with after-tax money; withdrawals in retirement are tax-free.",
    "A traditional IRA gives you a deduction now, and you pay tax when you withdraw.",
    "Formula: °C = (°F − 32) × 5/9, so 72 °F ≈ 22.2 °C.",
    "Day 1: Alfama and the castle. Day 2: Belém. Day 3: a day trip to Sintra.",
    "Tokens are pieces of words; on average one token is about 4 characters of English text.",
    "A 10-page PDF is typically 5,000–7,000 tokens, depending on layout and tables.",
    "Why did the database administrator leave his wife? She had one-to-many relationships.",
    "Hamlet seeks revenge for his father's murder, and the hesitation costs nearly everyone their life.",
    "The regex `^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$` matches that format.",
    "SSO and audit logs are included in the Enterprise plan only.",
    "Refunds usually take 5–10 business days to appear on your statement.",
    "I've escalated your case; a human agent will reply within one business day.",
    "Based on the retrieved documents, the answer is in the admin guide [doc 3].",
    "Sources: [1] API reference, [2] Security whitepaper, [3] Admin guide.",
    "Data can be stored in Frankfurt (eu-central) or Dublin (eu-west) regions.",
    "HTTP 413 means the payload is too large; the upload limit is 512 MB per file.",
    "Logs are retained for 30 days on Pro and 400 days on Enterprise.",
    "Yes, set `stream: true` and read the server-sent events as they arrive.",
    "E1042 indicates an expired signing certificate; renew it under Settings → SAML.",
    "Private networking is available in us-east-1, eu-west-1 and ap-northeast-1.",
    "To paginate, pass the `cursor` value from the previous response as `?cursor=`.",
    "\tIndented note: values are case-sensitive.",
    "Warning: this operation can't be undone!",
    "Does that answer your question?",
)


def _build_corpus() -> tuple[str, list[int], list[int]]:
    """About 1 MB of text; model outputs are slices of it starting at a sentence.

    Half the sentences are the canned ones above, half are new sentences drawn from their words
    (Zipf-weighted), so outputs do not repeat verbatim and compress about like real text. Also
    returns where sentences that end a reply cleanly (on `.`, `!` or `?`) end, so that an answer
    that was not cut off ends on one of them.
    """
    rng = random.Random(1128)
    words = sorted({w.strip('.,:;!?()[]*"“”„«»') for sentence in _SENTENCES for w in sentence.split()} - {""})
    rng.shuffle(words)
    word_weights = [rank**-0.7 for rank in range(1, len(words) + 1)]
    separators = (" ", " ", " ", "\n", "\n\n", "\n- ")
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    size = 0
    while size < 1_000_000:
        if rng.random() < 0.5:
            sentence = rng.choice(_SENTENCES)
        else:
            sentence = " ".join(rng.choices(words, word_weights, k=rng.randint(6, 24))).rstrip(".,:;!?")
            sentence = sentence[0].upper() + sentence[1:] + rng.choice((".", ".", ".", "?", "!", ":"))
        piece = sentence + rng.choice(separators)
        starts.append(size)
        if sentence[-1] in _CLEAN_ENDINGS:
            ends.append(size + len(sentence))
        parts.append(piece)
        size += len(piece)
    corpus = "".join(parts)
    return corpus, [s for s in starts if s < len(corpus) - 2_100], ends


#: Last characters of a sentence that ends a reply cleanly; a reply cut off by the token limit ends elsewhere.
_CLEAN_ENDINGS: Final = frozenset(".!?。！？")
CORPUS, CORPUS_STARTS, CORPUS_ENDS = _build_corpus()
#: Longest output text, in characters (longer answers are logged cut to this length).
MAX_TEXT: Final = 2000

# -- the RAG app's knowledge base: (topic, passage); topic i is what `RAG_INPUTS[i]` asks about ----------------------

KB: Final = (
    (
        0,
        "To rotate an API key, open Settings → API keys and click Rotate next to the key. The old key keeps working "
        "for 24 hours so you can roll out the new one without downtime. See https://docs.example.com/security/api-keys "
        "for the full procedure.",
    ),
    (
        0,
        "Rotated keys inherit the scopes and project of the key they replace. Revoking a key takes effect within 60 "
        "seconds in every region. Audit logs record who rotated or revoked each key.",
    ),
    (
        1,
        "The batch endpoint accepts up to 50,000 requests per job and 2,000 jobs per day per organisation. Batch "
        "requests do not count against your per-minute rate limit. Results are available within 24 hours.",
    ),
    (
        1,
        "Synchronous endpoints are limited to 500 requests per minute on Pro and 5,000 on Enterprise. When you exceed "
        "a limit, the API returns HTTP 429 with a Retry-After header. Limits are listed at "
        "https://docs.example.com/api/rate-limits.",
    ),
    (
        2,
        "The JavaScript SDK supports streaming on Node.js 18 and later. Pass stream: true and iterate over the "
        "response with for await. Each chunk is a server-sent event carrying a delta of the output.",
    ),
    (
        2,
        "Older Node.js versions lack a native fetch and need the node-fetch polyfill. Streaming through corporate "
        "proxies can buffer events; set the X-Accel-Buffering: no header if you control the proxy. Examples are at "
        "https://docs.example.com/sdk/node/streaming.",
    ),
    (
        3,
        "To configure SAML SSO with Okta, create a SAML 2.0 app in Okta and set the ACS URL to "
        "https://auth.example.com/saml/acs. Copy the Okta metadata URL into Settings → Security → SSO and click "
        "Verify.",
    ),
    (
        3,
        "SSO is available on the Enterprise plan. Once SSO is enforced, members must sign in through the identity "
        "provider and password login is disabled. SCIM provisioning keeps users and groups in sync with Okta.",
    ),
    (
        4,
        "Customers in the EU can store data in Frankfurt (eu-central-1) or Dublin (eu-west-1). Data residency is "
        "chosen when a workspace is created and cannot be changed later. Backups stay in the same region.",
    ),
    (
        4,
        "With EU data residency, prompts, outputs and logs are processed and stored only in EU regions. Support staff "
        "outside the EU cannot access customer content. Details are in "
        "https://docs.example.com/compliance/data-residency.",
    ),
    (
        5,
        "HTTP 413 Payload Too Large means the file exceeds the upload limit. Single uploads are limited to 512 MB; "
        "larger files must use the multipart upload API. See https://docs.example.com/api/files#limits.",
    ),
    (
        5,
        "Multipart uploads split a file into parts of 5 MB to 100 MB each. Parts can be uploaded in parallel and "
        "retried individually. The upload must be completed within 24 hours of its creation.",
    ),
    (
        6,
        "Request logs are retained for 30 days on the Pro plan and 400 days on the Enterprise plan. Enterprise "
        "customers can shorten retention to as little as 7 days. Deleted logs cannot be recovered.",
    ),
    (
        6,
        "Logs can be exported to your own S3 bucket before they expire. Exports run daily and include request "
        "metadata, token counts and latency. Retention settings are at https://docs.example.com/admin/retention.",
    ),
    (
        7,
        "Webhooks notify you when an export finishes, fails or is cancelled. Register an endpoint under Settings → "
        "Webhooks and pick the export.completed event. Every delivery is signed with an HMAC-SHA256 signature header.",
    ),
    (
        7,
        "Failed webhook deliveries are retried with exponential backoff for up to 3 days. Your endpoint should return "
        "a 2xx status within 10 seconds. The payload format is documented at "
        "https://docs.example.com/webhooks/events.",
    ),
    (
        8,
        "Fine-tuned models support a context window of up to 128,000 tokens, the same as their base model. Training "
        "examples longer than 64,000 tokens are truncated. Fine-tuned models are billed at twice the base model's "
        "rate.",
    ),
    (
        8,
        "Fine-tuning jobs accept JSONL files of up to 1 GB. A job usually finishes within a few hours. You can list "
        "and cancel jobs at https://docs.example.com/fine-tuning/jobs.",
    ),
    (
        9,
        "API v2 replaces the /v1/completions endpoint with /v2/responses. Authentication is unchanged, but request "
        "bodies use a messages array instead of a single prompt string. The migration guide is at "
        "https://docs.example.com/api/migrate-v1-to-v2.",
    ),
    (
        9,
        "API v1 will be retired twelve months after v2 became generally available. Until then both versions run side "
        "by side, so you can migrate one service at a time. The SDKs support v2 from version 4.0.",
    ),
    (
        10,
        "Two-factor authentication can be turned on under Profile → Security. Scan the QR code with an authenticator "
        "app and enter the six-digit code to confirm. Keep the recovery codes in a safe place.",
    ),
    (
        10,
        "Workspace owners can require two-factor authentication for all members. Members without it are asked to set "
        "it up at their next sign-in. Hardware security keys (WebAuthn) are supported as a second factor.",
    ),
    (
        11,
        "To export billing data as CSV, open Billing → Invoices and click Export. Choose a date range, and the CSV "
        "file is sent to every billing admin. Each row is one line item with its project and cost.",
    ),
    (
        11,
        "Billing data can also be fetched with the usage API, grouped by day, project or model. The API returns "
        "amounts in US dollars with six decimal places. See https://docs.example.com/billing/usage-api.",
    ),
    (
        12,
        "There is no on-prem deployment option. Enterprise customers can run the platform in a dedicated "
        "single-tenant cloud environment instead. A dedicated environment is isolated at the network and storage "
        "level.",
    ),
    (
        12,
        "Dedicated environments are available in AWS and Azure regions. Setup takes about two weeks and includes a "
        "private network link. Ask your account manager or read https://docs.example.com/enterprise/dedicated.",
    ),
    (
        13,
        "Private networking is available in us-east-1, eu-west-1 and ap-northeast-1. It uses AWS PrivateLink, so "
        "traffic never leaves the AWS backbone. Private endpoints are an Enterprise feature.",
    ),
    (
        13,
        "To set up a private endpoint, share your AWS account ID with support and accept the endpoint connection "
        "request. DNS for the API hostname then resolves to private addresses inside your VPC.",
    ),
    (
        14,
        "Seats are counted per member with access to at least one project. Guest users with read-only access are "
        "free and do not use a seat. A guest who is given edit rights becomes a paid member.",
    ),
    (
        14,
        "Seat counts are prorated: adding a member in the middle of a billing period charges only the remaining "
        "days. Removed members free their seat at once. Manage seats at https://docs.example.com/admin/seats.",
    ),
    (
        15,
        "Error code E1042 means the SAML signing certificate has expired. Upload a new certificate from your "
        "identity provider under Settings → Security → SSO. Until then, SSO sign-ins fail and users see an error "
        "page.",
    ),
    (
        15,
        "Error codes starting with E1 relate to authentication, E2 to billing and E3 to rate limits. Every error "
        "response includes a request ID that support can look up. The full list is at "
        "https://docs.example.com/api/errors.",
    ),
    (
        16,
        "A per-project spending cap is set under Project → Settings → Limits. When the cap is reached, requests from "
        "that project are rejected with HTTP 402 until the next month. Owners are notified at 80 % and 100 % of "
        "the cap.",
    ),
    (
        16,
        "Caps are checked every few minutes, so spend can exceed a cap slightly. Organisation-wide caps apply in "
        "addition to project caps. Budget alerts without hard limits are described at "
        "https://docs.example.com/billing/alerts.",
    ),
    (
        17,
        "Several workspaces can share one billing account. An organisation owner links a workspace under Billing → "
        "Accounts. Invoices then list the usage of each workspace separately.",
    ),
    (
        17,
        "A workspace can belong to only one billing account at a time. Moving a workspace to another account takes "
        "effect at the start of the next billing period. Credits cannot be moved between accounts.",
    ),
    (
        18,
        "The Pro plan includes a 99.9 % monthly uptime SLA for the API. If availability falls below it, you can "
        "claim service credits of 10 % to 30 % of the monthly fee. Claims must be made within 30 days.",
    ),
    (
        18,
        "The Enterprise plan raises the SLA to 99.95 % and adds a 1-hour response time for critical support tickets. "
        "Scheduled maintenance is announced 7 days ahead and excluded from the SLA. The SLA terms are at "
        "https://docs.example.com/legal/sla.",
    ),
    (
        19,
        "To delete a user and all their data, open Admin → Users, choose the user and click Delete permanently. "
        "Their prompts, outputs and files are erased within 30 days, including backups. The action cannot be "
        "undone.",
    ),
    (
        19,
        "For GDPR requests, admins can also export a user's data as a ZIP file before deleting it. Deletion requests "
        "can be automated with the admin API. Our processing terms are at https://docs.example.com/legal/dpa.",
    ),
    (
        20,
        "API keys can be restricted to specific projects and permissions. When creating a key, choose Restricted and "
        "select read or write access per resource. Restricted keys cannot create other keys.",
    ),
    (
        20,
        "You can also limit a key to a list of IP ranges. Requests from other addresses are rejected with HTTP 403. "
        "Key permissions are described at https://docs.example.com/security/key-permissions.",
    ),
    (
        21,
        "The /v2/events endpoint uses cursor-based pagination. Each response includes a next_cursor value; pass it as "
        "the cursor query parameter to fetch the next page. An empty next_cursor means there are no more pages.",
    ),
    (
        21,
        "Pages contain up to 100 events by default; set limit to a value between 1 and 1,000. Events are returned "
        "newest first. The reference is at https://docs.example.com/api/events#pagination.",
    ),
)
KB_PASSAGES: Final = tuple(text for _, text in KB)
KB_SENTENCES: Final = tuple(tuple(re.split(r"(?<=[.!?])\s+", text)) for text in KB_PASSAGES)
_URL: Final = re.compile(r"https?://[^\s)\]\"']+")
#: The URLs each passage mentions (trailing punctuation is the sentence's, not the URL's).
KB_URLS: Final = tuple(tuple(url.rstrip(".,;:") for url in _URL.findall(text)) for text in KB_PASSAGES)
KB_BY_TOPIC: Final = tuple(tuple(i for i, (topic, _) in enumerate(KB) if topic == t) for t in range(len(RAG_INPUTS)))
#: Links an answer makes up: plausible, and in no passage.
UNGROUNDED_URLS: Final = (
    "https://docs.example.com/security/rotate-keys-v2",
    "https://docs.example.com/guides/advanced-configuration",
    "https://docs.example.com/api/v3/reference",
    "https://help.example.com/articles/360012345",
    "https://docs.example.com/enterprise/on-prem-install",
    "https://docs.example.com/billing/spending-limits",
)
RAG_OPENERS: Final = (
    "",
    "",
    "",
    "According to the documentation, ",
    "Based on the provided context: ",
    "Short answer: ",
)
CITATIONS: Final = ("\n\nSource: {}", " See {} for details.", "\n\n[1] {}")

# -- replies that are not answers -------------------------------------------------------------------------------------

REFUSALS: Final = (
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I can't assist with that request.",
    "I'm sorry, but I can't answer that based on the provided documents.",
    "As an AI language model, I cannot provide personal opinions on that topic.",
    "As an AI language model, I cannot access your account or any personal data.",
    "I cannot help with that request.",
    "I cannot help with requests that involve other people's personal information.",
    "I apologize, but I cannot fulfill this request.",
    "Sorry, I can't provide that information. If you have another question, I'm happy to help.",
    "Je suis désolé, mais je ne peux pas vous aider avec cela.",
    "Es tut mir leid, aber dabei kann ich Ihnen nicht helfen.",
    "Lo siento, pero no puedo ayudarte con eso.",
    "申し訳ありませんが、そのご要望にはお応えできません。",
    "抱歉，我无法帮助您处理这个请求。",
)
#: Phrases a degenerate decoder loops on.
LOOPS: Final = (
    "Let me know if you'd like me to go into more detail.",
    "I hope this helps!",
    "The answer is yes.",
    "Please note that",
    "Step 1: Open the dashboard.",
    "and the the",
    "Thank you for your patience.",
    "パスワードは設定画面から再発行できます。",
)

# -- personal data and secrets: realistic in shape, obviously fake ---------------------------------------------------

NAMES: Final = ("jane.doe", "john.smith", "m.mueller", "sofia.garcia", "li.wei", "a.kowalski", "k.tanaka", "sam")
MAIL_DOMAINS: Final = ("example.com", "example.org", "example.net", "mail.example.com")
#: Fictional phone ranges: US 555-0100..0199, UK 020 7946 0xxx (Ofcom's drama range), DE 030 23125 xxx.
PHONES: Final = ("+1 202-555-01{:02d}", "(555) 555-01{:02d}", "+44 20 7946 0{:03d}", "+49 30 23125 {:03d}")
#: Card numbers the payment networks publish for testing (Luhn-valid, never issued).
TEST_CARDS: Final = (
    "4242424242424242",
    "4000056655665556",
    "5555555555554444",
    "2223003122003222",
    "378282246310005",
    "6011111111111117",
)
#: The IBANs of the standard's own examples (valid check digits).
EXAMPLE_IBANS: Final = (
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
)
ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
INPUT_PII_TEMPLATES: Final = {
    "email": ("My email is {pii}. {prompt}", "{prompt} Please reply to {pii}.", "From: {pii}\n\n{prompt}"),
    "phone": ("{prompt} You can call me at {pii}.", "My number is {pii}. {prompt}"),
    "openai_key": (
        "{prompt}\n\nHere is my config:\nOPENAI_API_KEY={pii}",
        'Why does this fail? client = OpenAI(api_key="{pii}")\n{prompt}',
    ),
    "aws_key": ("{prompt}\n\nexport AWS_ACCESS_KEY_ID={pii}\nexport AWS_DEFAULT_REGION=eu-west-1",),
    "github_token": ("{prompt} (my token is {pii})", "{prompt}\n\nGITHUB_TOKEN={pii} gh auth status"),
    "card": ("{prompt} My card number is {pii}.", "I paid with {pii} and {prompt}"),
    "iban": ("{prompt} Please send the refund to IBAN {pii}.",),
}
OUTPUT_PII_TEMPLATES: Final = {
    "email": ("You can also email our billing team at {pii}.", "I've updated the contact address to {pii}."),
    "phone": ("If it is urgent, call us at {pii}.", "Our hotline is {pii}."),
    "card": ("The card on file is {pii}.", "I charged the refund back to card {pii}."),
}

# -- `/extract`: JSON-mode calls ---------------------------------------------------------------------------------------

_REVIEWS: Final = (
    ("Arrived two days late and the box was crushed.", "negative", "delivery"),
    ("Great battery life, I charge it once a week!", "positive", "battery"),
    ("It works, nothing special.", "neutral", "general"),
    ("Support answered within minutes and fixed my issue.", "positive", "support"),
    ("Das Display ist nach einer Woche kaputt gegangen.", "negative", "display"),
    ("La talla es perfecta y la tela es muy suave.", "positive", "fit"),
)
_TICKETS: Final = (
    ("I was charged twice for my November invoice.", "billing", "high"),
    ("How do I change the language of the dashboard?", "how-to", "low"),
    ("The API returns 500 errors for every request since this morning.", "outage", "urgent"),
    ("Please add dark mode to the mobile app.", "feature-request", "low"),
    ("I cannot log in after resetting my password.", "account", "high"),
)
_PRODUCTS: Final = (
    ("USB-C cable 2 m", 9.9),
    ("Wireless mouse", 24.5),
    ("27-inch monitor", 219.0),
    ("Laptop stand", 39.0),
    ("Mechanical keyboard", 89.0),
    ("Noise-cancelling headphones", 149.0),
    ("HDMI adapter", 14.9),
    ("Webcam 1080p", 59.0),
)
_MEETINGS: Final = (
    "Quarterly planning",
    "Design review",
    "Customer call with Acme",
    "Sprint retro",
    "Budget sync",
)
_FIRST_NAMES: Final = ("Ana", "Ben", "Chloé", "Dev", "Elif", "Felix", "Grace", "Hiro", "Ines", "Jonas")
JSON_TRAILERS: Final = (
    ("", "\n\nLet me know if you need anything else!"),
    ("Here is the extracted data:\n", ""),
    ("", "\n\nNote: the total includes VAT."),
    ("Sure! ", ""),
)


def _schema(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A `json_schema` response format, as the OpenAI API takes it."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def json_task(rng: random.Random, *, long: bool) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An extraction prompt, the object a correct reply holds, and its `json_schema` format.

    `long` asks for an invoice with so many line items that its JSON cannot fit in `/extract`'s token limit.
    """
    kind = 3 if long else int(rng.random() * 5)
    string, number = {"type": "string"}, {"type": "number"}
    if kind == 0:
        order_id = f"A-{rng.randint(10_000, 99_999)}"
        date = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        total = round(rng.uniform(5, 900), 2)
        currency, symbol = rng.choice((("EUR", "€"), ("USD", "$"), ("GBP", "£")))
        prompt = (
            "Extract order_id, order_date, total and currency as JSON from this email:\n\n"
            f'"Hi, thanks for your order {order_id} placed on {date}. Your total is {symbol}{total:.2f} '
            'and it ships within 3 business days."'
        )
        obj: dict[str, Any] = {"order_id": order_id, "order_date": date, "total": total, "currency": currency}
        return prompt, obj, _schema("order", dict.fromkeys(obj, string) | {"total": number})
    if kind == 1:
        text, sentiment, topic = rng.choice(_REVIEWS)
        prompt = f'Classify this product review. Return JSON with sentiment, topic and confidence.\n\nReview: "{text}"'
        obj = {"sentiment": sentiment, "topic": topic, "confidence": round(rng.uniform(0.55, 0.99), 2)}
        return prompt, obj, _schema("review", {"sentiment": string, "topic": string, "confidence": number})
    if kind == 2:
        text, category, priority = rng.choice(_TICKETS)
        prompt = f'Triage this support ticket as JSON (category, priority, needs_human).\n\nTicket: "{text}"'
        obj = {"category": category, "priority": priority, "needs_human": priority in ("high", "urgent")}
        return (
            prompt,
            obj,
            _schema("ticket", {"category": string, "priority": string, "needs_human": {"type": "boolean"}}),
        )
    if kind == 3:
        n = rng.randint(40, 70) if long else rng.randint(1, 6)
        items: list[dict[str, Any]] = []
        for _ in range(n):
            name, price = rng.choice(_PRODUCTS)
            items.append({"name": name, "quantity": rng.randint(1, 5), "unit_price": price})
        number_ = f"INV-{rng.randint(2026_0001, 2026_9999)}"
        lines = "\n".join(f"{it['quantity']} x {it['name']} @ {it['unit_price']:.2f}" for it in items)
        prompt = (
            "Extract invoice_number, every line item (name, quantity, unit_price) and total as JSON:\n\n"
            f"{number_}\n{lines}"
        )
        total = round(sum(it["quantity"] * it["unit_price"] for it in items), 2)
        obj = {"invoice_number": number_, "items": items, "total": total}
        item = {"type": "object", "properties": {"name": string, "quantity": {"type": "integer"}, "unit_price": number}}
        return (
            prompt,
            obj,
            _schema("invoice", {"invoice_number": string, "items": {"type": "array", "items": item}, "total": number}),
        )
    title = rng.choice(_MEETINGS)
    date = f"2026-12-{rng.randint(1, 18):02d}"
    at = f"{rng.randint(8, 17):02d}:{rng.choice(('00', '15', '30', '45'))}"
    people = rng.sample(_FIRST_NAMES, rng.randint(2, 5))
    prompt = (
        "Extract title, date, time and attendees (first names) as JSON:\n\n"
        f'"{title} on {date} at {at} with {", ".join(people)}."'
    )
    obj = {"title": title, "date": date, "time": at, "attendees": people}
    return (
        prompt,
        obj,
        _schema(
            "meeting",
            {"title": string, "date": string, "time": string, "attendees": {"type": "array", "items": string}},
        ),
    )
