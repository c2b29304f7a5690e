#include "prompts/starters.hpp"

namespace rmm::prompts {
namespace {

// Kept as JSON in the shared template shape, so they read like files a user would write.
constexpr const char* kStarters[] = {
    R"json({
  "id": "coding-assistant",
  "name": "Coding assistant",
  "description": "Writes, reviews or explains code in a chosen language, with reasoning kept short and code complete.",
  "tags": ["coding", "starter"],
  "blocks": [
    {"type": "system", "text": "You are a senior {{language}} engineer. Write correct, idiomatic, well-structured {{language}} code that handles errors and edge cases. Prefer the standard library, keep functions small, and name things for what they do. When you change code, show the complete changed parts. Explain briefly why, not what. If the request is ambiguous, state the assumption you make."},
    {"type": "examples", "pairs": [
      {"user": "Task: write\nReverse the words of a sentence.", "assistant": "Split on whitespace, reverse the list, join with single spaces. The language's standard split handles repeated spaces.\n\n```\nwords = sentence.split()\nreturn \" \".join(reversed(words))\n```"}
    ]},
    {"type": "context", "text": "Existing code:\n```{{language}}\n{{code}}\n```"},
    {"type": "user", "text": "Task: {{task}}\n{{request}}"},
    {"type": "parameters", "temperature": 0.2, "max_tokens": 1024}
  ],
  "variables": [
    {"name": "language", "type": "select", "label": "Language", "options": ["Python", "C++", "JavaScript", "TypeScript", "Rust", "Go", "Java", "C#", "SQL", "Bash"], "default": "Python", "required": true},
    {"name": "task", "type": "select", "label": "Task", "options": ["write", "review", "explain", "fix", "test"], "default": "write", "required": true},
    {"name": "request", "type": "multiline", "label": "What should the code do?", "default": "Write a function that checks whether a string is a palindrome, ignoring case and punctuation.", "required": true},
    {"name": "code", "type": "multiline", "label": "Existing code (optional)", "required": false}
  ]
})json",
    R"json({
  "id": "writing-assistant",
  "name": "Writing assistant",
  "description": "Drafts or rewrites text for an audience in a chosen tone and length.",
  "tags": ["writing", "starter"],
  "blocks": [
    {"type": "system", "text": "You are a skilled editor and writer. Write in a {{tone}} tone for {{audience}}. Use plain words, active voice and short paragraphs. Keep facts exactly as given and never invent quotes, numbers or sources. Answer with the text only, without a preamble."},
    {"type": "user", "text": "{{instruction}}, in about {{words}} words.\n\n{{text}}"},
    {"type": "parameters", "temperature": 0.7, "max_tokens": 1500}
  ],
  "variables": [
    {"name": "tone", "type": "select", "label": "Tone", "options": ["friendly", "professional", "formal", "persuasive", "playful"], "default": "professional", "required": true},
    {"name": "audience", "type": "text", "label": "Audience", "default": "a general audience", "required": true},
    {"name": "instruction", "type": "text", "label": "What to do", "default": "Write a short blog post about why regular backups matter", "required": true},
    {"name": "words", "type": "number", "label": "Length (words)", "min": 20, "max": 3000, "default": 250, "required": true},
    {"name": "text", "type": "multiline", "label": "Source text or notes (optional)", "required": false}
  ]
})json",
    R"json({
  "id": "data-analysis",
  "name": "Data analysis",
  "description": "Analyses data or a situation step by step and answers a question with evidence.",
  "tags": ["analysis", "starter"],
  "blocks": [
    {"type": "system", "text": "You are a careful analyst. Work from the data given only. First list the relevant facts, then reason step by step, then give the answer. Quantify where you can, say how confident you are, and name what extra data would change the conclusion. Format: ## Facts, ## Analysis, ## Answer."},
    {"type": "context", "text": "Data ({{format}}):\n{{data}}"},
    {"type": "user", "text": "Question: {{question}}"},
    {"type": "parameters", "temperature": 0.3, "max_tokens": 1500}
  ],
  "variables": [
    {"name": "format", "type": "select", "label": "Data format", "options": ["CSV", "JSON", "table", "text"], "default": "CSV", "required": true},
    {"name": "data", "type": "multiline", "label": "Data", "default": "month,visitors,signups\nJan,1200,36\nFeb,1500,41\nMar,1450,58", "required": true},
    {"name": "question", "type": "text", "label": "Question", "default": "Which month converted best, and is the trend improving?", "required": true}
  ]
})json",
    R"json({
  "id": "summarize",
  "name": "Summarize",
  "description": "Summarizes a text as bullet points or a paragraph at a chosen length.",
  "tags": ["summarize", "starter"],
  "blocks": [
    {"type": "system", "text": "You summarize texts faithfully. Keep the main claims, decisions, numbers and names; drop examples, repetition and filler. Never add information that is not in the text. Write the summary in the language of the text."},
    {"type": "user", "text": "Summarize the following text as {{style}} in at most {{max_words}} words.\n\nText:\n{{text}}"},
    {"type": "parameters", "temperature": 0.2, "max_tokens": 800}
  ],
  "variables": [
    {"name": "style", "type": "select", "label": "Style", "options": ["bullet points", "one paragraph", "a one-sentence TL;DR"], "default": "bullet points", "required": true},
    {"name": "max_words", "type": "number", "label": "At most (words)", "min": 10, "max": 1000, "default": 120, "required": true},
    {"name": "text", "type": "multiline", "label": "Text to summarize", "default": "The city council met on Tuesday to discuss the new bike lanes. After two hours of debate, members voted 7 to 2 to build 12 km of protected lanes by next summer, funded by the existing transport budget. Shop owners on Main Street asked for delivery zones, and the council agreed to add six. Work starts in April.", "required": true}
  ]
})json",
    R"json({
  "id": "translate",
  "name": "Translate",
  "description": "Translates text between languages, keeping meaning, tone and formatting.",
  "tags": ["translate", "starter"],
  "blocks": [
    {"type": "system", "text": "You are a professional translator from {{source}} into {{target}}. Translate meaning, not word by word, and keep the tone, formatting, Markdown, code, numbers and names as they are. Answer with the translation only."},
    {"type": "user", "text": "{{text}}"},
    {"type": "parameters", "temperature": 0.1, "max_tokens": 2000}
  ],
  "variables": [
    {"name": "source", "type": "text", "label": "From", "default": "English", "required": true},
    {"name": "target", "type": "text", "label": "Into", "default": "French", "required": true},
    {"name": "text", "type": "multiline", "label": "Text", "default": "Good morning! The meeting moved to 3 pm, so we have time for lunch first.", "required": true}
  ]
})json",
    R"json({
  "id": "json-extraction",
  "name": "JSON extraction",
  "description": "Extracts named fields from free text into a JSON object.",
  "tags": ["extraction", "json", "starter"],
  "blocks": [
    {"type": "system", "text": "You extract data from text into JSON. Answer with one JSON object and nothing else. Use exactly these keys: {{fields}}. Use null for a value the text does not state; never guess. Dates as YYYY-MM-DD, numbers as JSON numbers."},
    {"type": "examples", "pairs": [
      {"user": "Text: Invoice 1043 from Acme Ltd, due 2024-03-01, total 1,250.00 EUR.", "assistant": "{\"invoice_number\": \"1043\", \"vendor\": \"Acme Ltd\", \"due_date\": \"2024-03-01\", \"total\": 1250.0, \"currency\": \"EUR\"}"}
    ]},
    {"type": "user", "text": "Text: {{text}}"},
    {"type": "parameters", "temperature": 0, "max_tokens": 600, "response_format": {"type": "json_object"}}
  ],
  "variables": [
    {"name": "fields", "type": "text", "label": "Keys to extract (comma separated)", "default": "invoice_number, vendor, due_date, total, currency", "required": true},
    {"name": "text", "type": "multiline", "label": "Text", "default": "Hi, this is Dana Lee from Northwind. Our invoice INV-2291 for 480 USD is due on 15 May 2025.", "required": true}
  ]
})json",
};

}  // namespace

const std::vector<Template>& starter_templates() {
  static const std::vector<Template> all = [] {
    std::vector<Template> v;
    for (const char* text : kStarters) v.push_back(parse_template_text(text, true));
    return v;
  }();
  return all;
}

}  // namespace rmm::prompts
