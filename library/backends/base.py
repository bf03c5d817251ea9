"""The port between the library and an image-description provider."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from PIL import Image


@dataclass(frozen=True)
class Analysis:
    caption: str  # one line
    description: str  # a few sentences
    aesthetic: str  # subject, composition, style, mood, colours: a prompt for something similar
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What we know of an item before looking at it."""

    kind: str  # photo | generated
    text: str  # the user's description, or the prompt
    # The project's name and category are filters, never words of the item: no backend writes them
    # into a caption, description or tags, nor gives them to a model as text to describe.
    project_name: str = ""
    category: str = ""
    trigger_word: str = ""
    colours: tuple[str, ...] = ()
    faces: int | None = None
    orientation: str = "square"
    camera: str = ""  # from EXIF, when the file says
    taken_at: datetime | None = None  # from EXIF, when the file says


class AnalysisFailed(Exception):
    """The provider's answer could not be used; the message says why."""


class AnalysisBackend(ABC):
    name: str

    @abstractmethod
    def analyse(self, *, image: Image.Image, context: Context) -> Analysis:
        """Describe one image. Raises AnalysisFailed, or a ProviderError for the retry policy."""
