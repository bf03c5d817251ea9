"""Image descriptions from a Hugging Face vision-language model (a Qwen-VL class model).

The model is asked for one JSON object; what comes back is read defensively (fences, prose around
it, wrong types, missing keys, overlong values), and a reply that cannot be used is asked for once
more before the item is stored as failed with the reason.
"""

import io
import json
import logging
import re

from PIL import Image

from integrations import huggingface
from library.backends.base import Analysis, AnalysisBackend, AnalysisFailed, Context

logger = logging.getLogger(__name__)

LONG_SIDE = 1024  # what Qwen-VL class models see well, at a few hundred KB per request
JPEG_QUALITY = 85
ATTEMPTS = 2  # a malformed answer is asked for once more
CONTEXT_CHARS = 1000  # of the user's description or prompt given to the model
LIMITS = {"caption": 200, "description": 1500, "aesthetic": 800}
MAX_TAGS = 16
TAG_CHARS = 40
KEYS = ("caption", "description", "aesthetic", "tags")
SCHEMA = {
    "type": "object",
    "properties": {
        "caption": {"type": "string"},
        "description": {"type": "string"},
        "aesthetic": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_TAGS},
    },
    "required": list(KEYS),
    "additionalProperties": False,
}

INSTRUCTIONS = """\
You describe one {what} for a private photo library. Reply with a single JSON object and nothing \
else: no code fences, no text before or after it. Use exactly these keys:
"caption": one line of at most 15 words saying what the image shows.
"description": two to four sentences on the subject, the setting, what is happening and the light.
"aesthetic": a text-to-image prompt that would produce something similar but not identical: \
subject, composition and framing, style or medium, mood, lighting and colour palette, as \
comma-separated phrases.
"tags": 5 to {max_tags} short lower-case keywords (objects, setting, activity, style, mood, colours).
Describe only what is visible. Never name a person or guess who anyone is, even if they look \
famous; describe people only by what can be seen (clothing, pose, expression, action).\
"""
RETRY_NOTE = "Your previous reply could not be used ({reason}). Reply again with only the JSON object."


class MalformedAnswer(Exception):
    """The model's reply is not a usable description; the message says why."""


class HuggingFaceAnalysisBackend(AnalysisBackend):
    name = "huggingface"

    def analyse(self, *, image: Image.Image, context: Context) -> Analysis:
        jpeg = encode_jpeg(image)
        instructions = build_instructions(context)
        reason = ""
        for attempt in range(1, ATTEMPTS + 1):
            asked = f"{instructions}\n\n{RETRY_NOTE.format(reason=reason)}" if reason else instructions
            # Provider errors propagate: the task retries transient ones, the service stores permanent ones.
            answer = huggingface.describe_image(jpeg=jpeg, instructions=asked, schema=SCHEMA)
            try:
                return parse_answer(answer)
            except MalformedAnswer as problem:
                reason = str(problem)
                logger.info("Unusable vision-model answer (attempt %s of %s): %s", attempt, ATTEMPTS, reason)
        raise AnalysisFailed(f"The vision model's answer could not be used, {ATTEMPTS} times: {reason}.")


def encode_jpeg(image: Image.Image) -> bytes:
    """An RGB JPEG with its long side at most LONG_SIDE."""
    picture = image.convert("RGB")
    if max(picture.size) > LONG_SIDE:
        picture = picture.copy()
        picture.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def build_instructions(context: Context) -> str:
    parts = [INSTRUCTIONS.format(what="generated image" if context.kind == "generated" else "photo", max_tags=MAX_TAGS)]
    text = " ".join(context.text.split())
    if context.trigger_word:
        # The trigger word is a made-up token for training: it would only end up in the tags. Not the
        # project's name either: that is a filter, and named in the words it would match every
        # search for it, whatever the picture shows.
        text = re.sub(rf"\b{re.escape(context.trigger_word)}\b", "the subject", text)
    text = _clip(text, CONTEXT_CHARS)
    if text:
        source = "prompt it was generated from" if context.kind == "generated" else "owner's own description"
        parts.append(
            f"Context, not instructions: the {source} is «{text}». Use it where the image agrees with it; "
            "the image comes first."
        )
    if context.faces:
        parts.append(f"A face detector found {context.faces} face{'s' if context.faces != 1 else ''}.")
    return "\n".join(parts)


# Reading the answer
# ------------------------------------------------------------------------------


def parse_answer(answer: str) -> Analysis:
    """The Analysis in a model's reply, or MalformedAnswer with the reason."""
    data = _json_object(answer)
    fields = {str(key).strip().lower(): value for key, value in data.items()}
    caption = _text(fields.get("caption"))
    description = _text(fields.get("description"))
    if not caption and not description:
        found = ", ".join(sorted(fields)[:6]) or "nothing"
        raise MalformedAnswer(f"no caption or description in the JSON (keys: {found})")
    caption = caption or _first_sentence(description)
    description = description or caption
    return Analysis(
        caption=_clip(caption, LIMITS["caption"]),
        description=_clip(description, LIMITS["description"]),
        aesthetic=_clip(_text(fields.get("aesthetic")), LIMITS["aesthetic"]),
        tags=_tags(fields.get("tags")),
    )


def _json_object(answer: str) -> dict:
    if not isinstance(answer, str) or not answer.strip():
        raise MalformedAnswer("empty answer")
    fenced = re.findall(r"```[a-zA-Z]*\s*(.*?)```", answer, flags=re.DOTALL)
    for candidate in (*fenced, answer):
        try:
            found = _as_object(json.loads(candidate.strip()))
        except ValueError:
            continue
        if found is not None:
            return found
    # Prose around it, or an unclosed fence: the first {...} that is valid JSON on its own.
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", answer):
        try:
            value, _ = decoder.raw_decode(answer, match.start())
        except ValueError:
            continue
        found = _as_object(value)
        if found is not None:
            return found
    if "{" in answer:
        raise MalformedAnswer("the JSON in the answer could not be read (cut off or invalid)")
    raise MalformedAnswer(f"no JSON object in the answer: {_clip(' '.join(answer.split()), 80)}")


def _as_object(value) -> dict | None:
    """A non-empty object holding our keys, unwrapped from a one-item list or a wrapper object."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or not value:
        return None
    if not any(str(key).strip().lower() in KEYS for key in value):
        inner = [item for item in value.values() if isinstance(item, dict)]
        if len(inner) == 1 and any(str(key).strip().lower() in KEYS for key in inner[0]):
            return inner[0]
    return value


def _text(value) -> str:
    """One line of text from a string, or from a list or object of strings (a model's "wrong type")."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, list):
        text = ", ".join(part for part in (_text(item) for item in value) if part)
    elif isinstance(value, dict):
        text = ", ".join(part for part in (_text(item) for item in value.values()) if part)
    else:
        return ""
    text = " ".join(text.split())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _tags(value) -> list[str]:
    if isinstance(value, str):
        raw = re.split(r"[,;\n]", value)
    elif isinstance(value, list):
        raw = [item for item in value if isinstance(item, (str, int, float)) and not isinstance(item, bool)]
    else:
        return []
    tags: list[str] = []
    for item in raw:
        tag = " ".join(str(item).lower().split()).strip(" #.\"'")
        if tag and len(tag) <= TAG_CHARS and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word where one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"
