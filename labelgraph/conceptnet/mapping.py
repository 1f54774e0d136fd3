"""Label → ConceptNet concepts (SPEC §2.5), with an override file that wins.

For each label, in order:

1. **override** — the label is in the override file: its concepts, as written;
2. **phrase** — the whole label as one concept: ``tennis racket`` → ``/c/en/tennis_racket``;
3. **singular** — the phrase with its last word made singular (``wine glasses`` →
   ``/c/en/wine_glass``), when that differs;
4. **words** — the label's content words, stop words dropped and plurals made
   singular (``tennis racket`` → ``/c/en/tennis``, ``/c/en/racket``); the knowledge
   graph then takes the max over the word pairs.

Steps 2–4 read the label's display name (:func:`labelgraph.datasets.names.display_name`:
``_`` → space, camelCase split, a dataset's table), the same words the text encoders see.
A step is taken when the concept(s) before it have no edge at all in the store (any
relation, either direction), so the choice does not depend on the relation set.

Override files: CSV (``label,concept[,concept...]``, several rows per label allowed,
``#`` comments, an optional ``label,...`` header) or TOML (``"label" = "concept"`` or
``"label" = ["c1", "c2"]``).  A concept is a URI (``/c/en/dining_table``; a sense
suffix is dropped) or plain words (``dining table``).  ``labelgraph`` ships default
overrides for VOC's fused names (``diningtable``, ``pottedplant``, ``tvmonitor``), see
:func:`packaged_overrides`.

Examples
--------
>>> phrase_concept("Tennis racket")
'/c/en/tennis_racket'
>>> content_words("a pair of skis")
['pair', 'ski']
>>> has = {"/c/en/tennis", "/c/en/racket", "/c/en/hot_dog"}.__contains__
>>> [(m.label, m.source, m.concepts) for m in map_labels(["tennis racket", "hot dog"], has)]
[('tennis racket', 'words', ('/c/en/tennis', '/c/en/racket')), ('hot dog', 'phrase', ('/c/en/hot_dog',))]
"""
from __future__ import annotations

import csv
import difflib
import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from ..datasets.names import dataset_family, display_name
from ..errors import DataError, MissingDependencyError
from ..graphs.knowledge import concept_of

__all__ = [
    "STOP_WORDS",
    "LabelMapping",
    "normalize_term",
    "phrase_concept",
    "singularize",
    "content_words",
    "label_candidates",
    "parse_concept",
    "read_overrides",
    "packaged_overrides",
    "map_labels",
]

log = logging.getLogger(__name__)

#: English function words dropped from a label before its words are used as concepts.
STOP_WORDS: frozenset[str] = frozenset("""
a an the of and or for with without in on at to by from as into onto off up down over under
is are be this that these those its it no not some any other per via s
""".split())

_IRREGULAR = {
    "people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
    "geese": "goose", "feet": "foot", "teeth": "tooth", "knives": "knife", "leaves": "leaf",
    "wolves": "wolf", "shelves": "shelf", "halves": "half", "loaves": "loaf", "wives": "wife",
    "lives": "life", "thieves": "thief", "calves": "calf", "scarves": "scarf", "buses": "bus",
    "tomatoes": "tomato", "potatoes": "potato", "heroes": "hero", "oxen": "ox", "dice": "die",
    "cacti": "cactus", "fungi": "fungus", "skis": "ski",
}
#: Words that look plural but are not (or have no singular).
_INVARIANT = frozenset("""
scissors trousers pants jeans shorts glasses binoculars pliers tongs species series news
means sheep deer fish aircraft bass lens canvas chassis gas bus yes this his its
""".split())
_TOKEN = re.compile(r"[^\w']+")

#: Folder of the override files shipped with labelgraph, one ``<dataset>.csv`` each.
_PACKAGED = Path(__file__).parent / "overrides"


@dataclass(frozen=True)
class LabelMapping:
    """How one label maps to ConceptNet concepts.

    Attributes
    ----------
    label : str
    concepts : tuple of str
        The concepts used for the label (empty when none has an edge).
    source : str
        ``override``, ``phrase``, ``singular``, ``words`` or ``none``.
    tried : tuple of str
        Every concept looked at, in order.
    """

    label: str
    concepts: tuple[str, ...]
    source: str
    tried: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"label": self.label, "concepts": list(self.concepts), "source": self.source,
                "tried": list(self.tried)}


def normalize_term(text: str) -> str:
    """ConceptNet's term form: lower case, runs of spaces and punctuation → one ``_``.

    Examples
    --------
    >>> normalize_term("  Hair-Drier ")
    'hair_drier'
    """
    return _TOKEN.sub("_", text.strip().lower()).strip("_")


def phrase_concept(label: str, lang: str = "en") -> str:
    """The whole label as one concept URI.

    Examples
    --------
    >>> phrase_concept("potted plant")
    '/c/en/potted_plant'
    """
    term = normalize_term(label)
    if not term:
        raise DataError(f"label {label!r} has no letters or digits to make a ConceptNet concept of")
    return f"/c/{lang}/{term}"


def singularize(word: str) -> str:
    """A plural English noun made singular by rule (with a table of irregular forms).

    Words ending in ``ss``, ``us`` or ``is`` and words of three letters or fewer are kept,
    as are known invariant words (``scissors``, ``sheep``).

    Examples
    --------
    >>> [singularize(w) for w in ["skis", "glasses", "glass", "batteries", "knives", "boxes", "bus", "scissors"]]
    ['ski', 'glasses', 'glass', 'battery', 'knife', 'box', 'bus', 'scissors']
    """
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w in _INVARIANT or len(w) <= 3 or w.endswith(("ss", "us", "is")) or not w.endswith("s"):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return w[:-2]
    return w[:-1]


def content_words(label: str) -> list[str]:
    """The label's words, lower case, stop words and numbers dropped, each made singular, without repeats.

    Examples
    --------
    >>> content_words("Wine glasses on the table")
    ['wine', 'glass', 'table']
    """
    words = []
    for token in _TOKEN.split(label.lower()):
        token = token.strip("'")
        if not token or token in STOP_WORDS or token.isdigit():
            continue
        # "glasses" the eyewear is invariant as a label, but as one word of a phrase it is a plural
        word = token[:-2] if token.endswith("sses") else singularize(token)
        if word not in words:
            words.append(word)
    return words


def label_candidates(label: str, lang: str = "en") -> tuple[list[str], list[str]]:
    """The phrase concepts (whole label, then its singular form) and the content-word concepts.

    Examples
    --------
    >>> label_candidates("wine glasses")
    (['/c/en/wine_glasses', '/c/en/wine_glass'], ['/c/en/wine', '/c/en/glass'])
    >>> label_candidates("skis")
    (['/c/en/skis', '/c/en/ski'], [])
    """
    phrase = phrase_concept(label, lang)
    steps = [phrase]
    tokens = [t for t in _TOKEN.split(label.lower()) if t]
    if tokens:
        last = tokens[-1]
        single = last[:-2] if (len(tokens) > 1 and last.endswith("sses")) else singularize(last)
        singular = f"/c/{lang}/{normalize_term('_'.join(tokens[:-1] + [single]))}"
        if singular != phrase:
            steps.append(singular)
    words = [f"/c/{lang}/{w}" for w in content_words(label)]
    return steps, [w for w in words if w not in steps]


def parse_concept(text: str, lang: str = "en") -> str:
    """A concept URI from override text: ``/c/xx/term[/sense...]`` (sense dropped) or plain words.

    Examples
    --------
    >>> parse_concept("/c/en/plant/n/wn/plant"), parse_concept("dining table")
    ('/c/en/plant', '/c/en/dining_table')
    """
    text = text.strip()
    if text.startswith("/"):
        parts = text.split("/")
        if len(parts) < 4 or parts[1] != "c" or not parts[2] or not parts[3]:
            raise ValueError(f"{text!r} is not a concept URI of the form /c/<lang>/<term>")
        return concept_of(text.rstrip("/"))
    if "://" in text:
        raise ValueError(f"{text!r} is a URL, not a ConceptNet concept")
    return phrase_concept(text, lang)


def packaged_overrides(dataset: str | None) -> Path | None:
    """The override file shipped for ``dataset`` (``voc``: VOC's fused names), or ``None``.

    Examples
    --------
    >>> packaged_overrides("voc2007").name
    'voc.csv'
    >>> packaged_overrides("coco") is None
    True
    """
    if not dataset:
        return None
    name = dataset_family(dataset)
    path = _PACKAGED / f"{name}.csv"
    return path if path.is_file() else None


def read_overrides(path: str | os.PathLike[str], labels: Sequence[str] | None = None,
                   lang: str = "en") -> dict[str, tuple[str, ...]]:
    """Read an override file (``.csv``/``.tsv``/``.txt`` or ``.toml``): label → concept URIs.

    Parameters
    ----------
    path : path
        The file.
    labels : sequence of str, optional
        The known labels; an override for any other label is an error naming file and line.
    lang : str
        Language of concepts given as plain words.

    Raises
    ------
    DataError
        Unknown label, malformed concept, a label with no concept, an unreadable file.

    Examples
    --------
    >>> p = tmp / "o.csv"
    >>> _ = p.write_text("label,concepts\\ntvmonitor,/c/en/television,monitor\\n")
    >>> read_overrides(p, ["tvmonitor", "cat"])
    {'tvmonitor': ('/c/en/television', '/c/en/monitor')}
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if suffix == ".toml":
        entries = _toml_entries(path, text)
    elif suffix in (".csv", ".tsv", ".txt"):
        entries = _csv_entries(path, text, "\t" if suffix == ".tsv" else ",")
    else:
        raise DataError(f"{path}: unknown override file type {suffix or '(none)'!r} (use .csv, .tsv or .toml)")

    known = None if labels is None else set(labels)
    out: dict[str, list[str]] = {}
    for where, label, concepts in entries:
        if known is not None and label not in known:
            close = difflib.get_close_matches(label, list(known), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise DataError(f"{where}: override for unknown label {label!r}{hint}")
        if not concepts:
            raise DataError(f"{where}: label {label!r} has no concept")
        for raw in concepts:
            try:
                concept = parse_concept(raw, lang)
            except (ValueError, DataError) as exc:
                raise DataError(f"{where}: {exc}") from None
            bucket = out.setdefault(label, [])
            if concept not in bucket:
                bucket.append(concept)
    return {label: tuple(cs) for label, cs in out.items()}


def _csv_entries(path: Path, text: str, delimiter: str) -> list[tuple[str, str, list[str]]]:
    entries = []
    first = True
    for lineno, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        header, first = first and cells[0].lower() == "label", False
        if header:
            continue
        entries.append((f"{path}:{lineno}", cells[0], [c for c in cells[1:] if c]))
    return entries


def _toml_entries(path: Path, text: str) -> list[tuple[str, str, list[str]]]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise MissingDependencyError("reading TOML on Python < 3.11 needs tomli: pip install tomli") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc})") from None
    entries = []
    for label, value in data.items():
        where = f"{path}: key {label!r}"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"{where}: expected a concept string or a list of them, got {value!r}")
        entries.append((where, label, value))
    return entries


def map_labels(labels: Iterable[str], has_edges: Callable[[str], bool],
               overrides: Mapping[str, Sequence[str]] | None = None, lang: str = "en",
               dataset: str | None = None) -> list[LabelMapping]:
    """Map each label to its concepts (the steps in this module's docstring).

    Parameters
    ----------
    labels : iterable of str
    has_edges : callable
        ``concept → bool``: whether the store holds any edge at the concept.  It is called
        for every concept looked at, override concepts included, so a caller can fetch
        (or check the coverage of) each concept there.
    overrides : mapping, optional
        label → concept URIs (from :func:`read_overrides`); these win.
    lang : str
        Language of the concepts made from label text.
    dataset : str, optional
        The labels' dataset: a label is read through its display name
        (:func:`labelgraph.datasets.names.display_name`, shared with the text encoders),
        e.g. VOC's ``diningtable`` as ``dining table``.

    Returns
    -------
    list of LabelMapping
        In the order of ``labels``.

    Examples
    --------
    >>> has = {"/c/en/plant", "/c/en/ski", "/c/en/dog"}.__contains__
    >>> for m in map_labels(["potted plant", "skis", "hot dog"], has):
    ...     print(m.label, m.source, m.concepts)
    potted plant words ('/c/en/plant',)
    skis singular ('/c/en/ski',)
    hot dog words ('/c/en/dog',)
    """
    overrides = overrides or {}
    result = []
    for label in labels:
        if label in overrides:
            concepts = tuple(dict.fromkeys(overrides[label]))
            for concept in concepts:
                has_edges(concept)
            result.append(LabelMapping(label, concepts, "override", concepts))
            continue
        steps, words = label_candidates(display_name(label, dataset), lang)
        tried: list[str] = []
        chosen: tuple[str, ...] = ()
        source = "none"
        for k, concept in enumerate(steps):
            tried.append(concept)
            if has_edges(concept):
                chosen, source = (concept,), ("phrase" if k == 0 else "singular")
                break
        else:
            found = []
            for concept in words:
                tried.append(concept)
                if has_edges(concept):
                    found.append(concept)
            if found:
                chosen, source = tuple(found), "words"
        result.append(LabelMapping(label, chosen, source, tuple(tried)))
    return result

