"""Offline analysis: words from the user's own description or prompt, plus what the pixels say."""

from PIL import Image, ImageStat

from library.analysis import colour_name, keywords
from library.backends.base import Analysis, AnalysisBackend, Context

LIGHT = {True: "bright, airy light", False: "moody, low-key light"}


class LocalAnalysisBackend(AnalysisBackend):
    name = "local"

    def analyse(self, *, image: Image.Image, context: Context) -> Analysis:
        colours = list(dict.fromkeys(colour_name(colour) for colour in context.colours))
        words = keywords(context.text.replace(context.trigger_word, " ") if context.trigger_word else context.text)
        subject = context.text.strip() or context.project_name or "a photograph"
        if context.trigger_word:
            subject = subject.replace(context.trigger_word, context.project_name or "the subject")
        tags = list(words)
        for extra in (
            context.category,
            "generated" if context.kind == "generated" else "photo",
            context.orientation,
            "people" if context.faces else "",
            *colours[:2],
        ):
            if extra and extra not in tags:
                tags.append(extra)
        bright = ImageStat.Stat(image.convert("L")).mean[0] > 120
        caption = subject.split(".")[0][:200]
        what = "generated image" if context.kind == "generated" else "photo"
        of = f" of {context.project_name}" if context.project_name else ""
        faces = f", with {context.faces} face{'s' if context.faces != 1 else ''}" if context.faces else ""
        tones = ", ".join(colours[:3]) or "muted"
        description = f"{subject.rstrip('.')}. A {context.orientation} {what}{of}{faces}, in {tones} tones."
        aesthetic = (
            f"{', '.join(words[:6]) or 'a quiet everyday scene'}, {context.orientation} composition, "
            f"{LIGHT[bright]}, colour palette of {' and '.join(colours[:3]) or 'soft neutrals'}, "
            "natural photographic style, shallow depth of field"
        )
        return Analysis(caption=caption, description=description, aesthetic=aesthetic, tags=tags[:16])
