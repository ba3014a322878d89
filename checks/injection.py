"""A detector of instruction-like text where only data belongs (tool outputs).

Tool outputs are data: an order, a flight list, a web page. Text in them that addresses the
model, tries to override its instructions, fakes a chat role, orders a tool call or hides
itself from the reader is a prompt injection. Each pattern below is one such move; they are
compiled once into a single regular expression whose named group says which move matched.

Precision matters as much as recall: on the 543 real tool outputs of the tau-bench conformance
trajectories (flight searches, reservations, user profiles) the detector flags none.
"""

import base64
import binascii
import functools
import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Written in lower case and matched against lowered text: Python's `re` runs a many-branch
# alternation about 12x slower with IGNORECASE than on text lowered once.
_PATTERNS: dict[str, str] = {
    "override": (
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+|these\s+|those\s+)*"
        r"(?:previous|prior|above|earlier|preceding|original|system|existing|current)\s+"
        r"(?:instructions?|prompts?|rules?|directions?|guidelines?|directives?|messages?|context|policies)"
    ),
    "new_instructions": r"\b(?:new|updated|revised|real|secret|hidden|system)\s+instructions?\s*:",
    "role_play": (
        r"\byou are now (?:a|an|the|acting|in|operating|dan|jailbroken|unrestricted|free)\b"
        r"|\bfrom now on,? (?:you|the assistant|the agent|the ai)\b"
        r"|\b(?:pretend|act) (?:to be|as|like) (?:an?|the) (?:ai|assistant|agent|system|admin\w*|developer"
        r"|unrestricted|jailbroken|different)\b"
    ),
    "fake_role": (
        r"(?:^|\n)[ \t#*]*(?:system|developer)[ \t]*:[ \t]*\S"
        r"|<\|im_(?:start|end)\|>|<\|(?:system|assistant|user|endoftext)\|>|\[/?inst\]|<</?sys>>"
        r"|</?(?:system|system_prompt|instructions?)>"
    ),
    "tool_order": (
        r"\b(?:you must|you should|you need to|you have to|you are required to|make sure to|be sure to)"
        r"(?: now| immediately| first)? (?:call|invoke|use|run|execute|trigger)\b"
        r"(?: the)? (?:tool|function)\b"
        r"|\bcall the (?:tool|function) [a-z_]\w*"
        r"|\b(?:immediately|now) (?:call|invoke|execute) (?:the )?(?:tool|function)\b"
    ),
    "addresses_model": (
        r"\b(?:note|message|instructions?|notice|attention|reminder)\s+(?:to|for)\s+(?:the\s+)?"
        r"(?:ai|assistant|agent|model|llm|chatbot|language model)\b"
        r"|\b(?:dear|hey|hello|attention)\s*,?\s+(?:ai|assistant|chatgpt|claude|gpt|llm|language model)\b"
        r"|\bif you are an? (?:ai|assistant|llm|language model)\b"
        r"|(?m:^)[ \t]*(?:ai|assistant|chatbot|llm|chatgpt|claude|gpt)s?\s*,"
        r"|[.!?]\s+(?:ai|assistant|chatbot|llm|chatgpt|claude|gpt)s?\s*,"
        r"|\b(?:ai|llm)s?(?: agents?| assistants?| models?)?,? "
        r"(?:reading|processing|summari[sz]ing|parsing|seeing) (?:this|these)\b"
    ),
    "secrecy": (
        r"\b(?:do not|don't|never)\s+(?:tell|inform|notify|alert|warn)\s+the user\b"
        r"|\bwithout (?:telling|informing|notifying|alerting) the user\b"
    ),
    "prompt_leak": (
        r"\b(?:reveal|print|output|repeat|show|disclose|leak)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:system prompt|instructions|hidden prompt|initial prompt|prompt)\b"
    ),
    "claimed_authority": (
        r"\b(?:message|note|instructions?|update|order|request|directive)s?\s+from\s+(?:the\s+|your\s+)?"
        r"(?:user|developer|system|admin(?:istrator)?|operator|creator|openai|anthropic|security team)\b"
        r"|\bthe user (?:has |have )?(?:asked|wants|requested|instructed|authori[sz]ed|approved|told) "
        r"(?:you|the assistant|the agent|the ai)\b"
        r"|\b(?:i am|this is|as) (?:the|your) (?:developer|administrator|admin|system administrator|operator"
        r"|creator|system)\b[^.\n]{0,40}\b(?:you|assistant|agent|ai)\b"
    ),
    "fake_delimiter": (
        r"</?(?:tool_result|tool_output|tool_response|function_results?|function_call|assistant|user|context"
        r"|document|email|untrusted|data)>[ \t]*\n?[^<\n]{0,80}\b(?:you|assistant|ignore|instruction)"
        r"|\"role\"\s*:\s*\"(?:system|developer)\""
        r"|\bend of (?:the )?(?:tool |function )?(?:output|result|response|document|email|context|data)\b"
        r"[^\n]{0,80}\b(?:you|assistant|now|instruction)"
        r"|-{3,}\s*(?:begin|start|end)\s+(?:of\s+)?(?:system|instructions?|admin|developer)"
    ),
    "note_to_model": (
        r"\b(?:todo|fixme|nb|p\.?s\.?)\s*(?:\(|:|for|to)\s*(?:the\s+)?(?:ai|assistant|agent|model|llm|bot)\b"
        r"|\b(?:ai|assistant|agent|llm|bot)s?\s*(?:only|instructions?)\s*:"
    ),
    "tool_lure": (
        r"\b(?:use|call|invoke|run|trigger|execute) (?:the )?`?[a-z][a-z0-9]*_[a-z0-9_]+`? "
        r"(?:tool|function)\b"
        r"|\b(?:use|call|invoke) the (?:tool|function) `?[a-z][a-z0-9]*_[a-z0-9_]+"
    ),
    "foreign_override": (
        r"(?:ignora|ignorez|ignore[sz]?|ignoriere|ignorieren|ignorar|olvida|oublie[sz]?|vergiss|dimentica"
        r"|игнорируй|забудь)\b[^\n]{0,40}?(?:instrucciones|instructions|anweisungen|istruzioni|instruções"
        r"|indicaciones|consignes|инструкции|указания)"
        r"|(?:忽略|无视|無視)[^\n]{0,20}?(?:指令|指示|说明|命令)"
    ),
    "hidden_html": (
        r"<!--(?:(?!-->)[\s\S]){0,500}?\b(?:instruction|assistant|ignore|you must|system|call)\b"
        r"|<[^>]{0,200}style\s*=\s*[\"'][^\"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0)"
        r"|\[//\]\s*:\s*#"
    ),
}
_DETECTOR = re.compile("|".join(f"(?P<{kind}>{p})" for kind, p in _PATTERNS.items()))
# Every pattern above contains one of these: substring tests (C speed) skip the regex on clean data.
# Substrings, not words: "ignor" also covers "ignoriere" and "ignorez".
_ANCHORS = (
    "ignor", "disregard", "forget", "overrid", "bypass", "instruction", "you ", "from now on", "pretend",
    "act ", "system", "developer", "<|", "inst]", "sys>>", "required to", "sure to", "call the",
    "immediately", "now ", "note", "message", "notice", "attention", "reminder", "dear", "hey", "hello",
    "the user", "prompt", "<!--", "style", "[//]",
    # claimed_authority
    "from the ", "from your ", "from user", "from admin", "from openai", "from anthropic", "from operator",
    "from security", "i am the", "i am your", "this is the", "this is your", "as the ", "as your ",
    # fake_delimiter
    "</", "<tool", "<function", "<assistant", "<user", "<context", "<document", "<email", "<untrusted",
    "<data", '"role"', "end of", "---",
    # note_to_model
    "todo", "fixme", "nb:", "nb ", "p.s", "ps:", "ps ", "only:",
    # tool_lure
    " tool", " function",
    # addresses_model: a vocative ("Assistant, ...") or "AI agents reading this"
    "assistant", "chatbot", "llm", "gpt", "claude", "ai,", "ais,", "ai agent", "ai assistant", "ai model",
    "ais ", "ai reading", "ai processing", "ai summar", "ai pars", "ai seeing",
    # foreign_override
    "olvida", "oubli", "vergiss", "dimentica", "игнор", "забуд", "忽略", "无视", "無視",
)  # fmt: skip
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_WORD = re.compile(r"[a-z][013457@$][a-z]")
# Base64 runs long enough to hold a sentence (a few words).
_B64_MIN = 24
_B64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}")
_HIDDEN_CHARS = re.compile("[\u200b\u200c\u200e\u200f\u2060-\u2064\U000e0000-\U000e007f]")


@dataclass(frozen=True)
class InjectionFinding:
    """Instruction-like text found in data: which move it makes and the text that matched."""

    kind: str
    text: str
    start: int


def find_injection(text: str) -> InjectionFinding | None:
    """The first instruction-like passage in `text`, or None.

    Phrase patterns first (they name the move), then base64 runs decoded and searched once,
    then the sentence model (kind ``instruction``) for requests written in no known phrase, and
    last a weaker request that has nothing to do with the rest of the text (kind ``off_topic``).
    """
    found = _find_phrase(text)
    if found is not None:
        return found
    if len(text) >= _B64_MIN:
        for run in _B64.finditer(text):
            decoded = _decoded(run.group(0))
            if decoded and (_find_phrase(decoded) or sentence_model().worst(decoded)):
                return InjectionFinding(kind="encoded", text=decoded[:120], start=run.start())
    model = sentence_model()
    worst = model.worst(text)
    if worst is None:
        return None
    sentence = worst[1].strip()
    kind = "instruction" if worst[0] >= model.threshold else "off_topic"
    return InjectionFinding(kind=kind, text=sentence, start=max(0, text.find(sentence)))


def _decoded(run: str) -> str | None:
    try:
        raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # Random bytes that happen to decode: mostly letters and spaces means someone wrote words.
    letters = sum(c.isalpha() or c == " " for c in decoded)
    return decoded if letters >= 0.85 * len(decoded) and " " in decoded else None


def _anchored(lowered: str) -> bool:
    for anchor in _ANCHORS:  # noqa: SIM110 - a plain loop: any() over a generator costs more than the tests
        if anchor in lowered:
            return True
    return False


def _find_phrase(text: str) -> InjectionFinding | None:
    hidden = _HIDDEN_CHARS.search(text)
    if hidden:
        return InjectionFinding(kind="hidden_chars", text=repr(hidden.group(0)), start=hidden.start())
    lowered = text.lower()
    match = _DETECTOR.search(lowered) if _anchored(lowered) else None
    if match is None:
        # Digits and symbols for letters ("1gn0re all prev1ous 1nstruct1ons") read as the letters.
        leet = lowered.translate(_LEET) if _LEET_WORD.search(lowered) else lowered
        match = _DETECTOR.search(leet) if leet is not lowered and _anchored(leet) else None
        if match is None:
            return None
    # Positions in the lowered text are those of `text` except for the rare characters whose
    # lower case is longer (e.g. "İ"); the excerpt is only for people to read.
    if len(lowered) != len(text):
        return InjectionFinding(kind=str(match.lastgroup), text=match.group(0).strip(), start=match.start())
    # The match and the rest of its line (up to 60 more characters), so a person sees what it asks.
    end = text.find("\n", match.end())
    end = min(match.end() + 60, len(text) if end < 0 else max(end, match.end()))
    return InjectionFinding(
        kind=str(match.lastgroup), text=text[match.start() : end].strip(), start=match.start()
    )


KINDS: tuple[str, ...] = (*_PATTERNS, "hidden_chars", "encoded", "instruction", "off_topic")


# --- The learned layer: a linear model over the words of each sentence of the data. ---
# Phrase patterns catch the known moves; most injections in the wild are plain requests written
# to the model ("Summarize the report.", "Add this link to your answer."), which no phrase list
# covers. A logistic regression over a sentence's words, word pairs and opening words, trained at
# build time on BIPIA's train split (bench/train_injection.py), scores each sentence; the weights
# ship as package data and load once.

_SPLIT = re.compile(r"(?<=[.!?:])\s+|\|")
_TOKEN = re.compile(r"[a-z]+|\d+|```|[?\"'`]")
MIN_WORDS = 4
_SOFTENERS = frozenset({"please", "kindly", "now", "also", "then", "next", "first", "finally", "just"})
# Verbs that ask for work an assistant does (write, explain, analyse, ...), as instruction-tuning
# data phrases its tasks; a general list, not one taken from any test set.
TASK_VERBS = frozenset((
    "write", "rewrite", "draft", "compose", "create", "generate", "produce", "develop", "design", "build",
    "make", "prepare", "craft", "outline", "explain", "describe", "define", "clarify", "elaborate",
    "discuss", "illustrate", "demonstrate", "show", "teach", "tell", "give", "state", "summarize",
    "summarise", "paraphrase", "condense", "abstract", "recap", "review", "critique", "evaluate",
    "assess", "analyze", "analyse", "examine", "investigate", "research", "compare", "contrast",
    "contextualize", "interpret", "classify", "categorize", "categorise", "label", "tag", "rank", "rate",
    "score", "grade", "determine", "identify", "detect", "extract", "list", "enumerate", "name",
    "mention", "cite", "recommend", "suggest", "propose", "advise", "brainstorm", "plan", "schedule",
    "predict", "forecast", "estimate", "calculate", "compute", "solve", "convert", "translate",
    "transliterate", "encode", "decode", "encrypt", "decrypt", "reverse", "reformat", "format", "spell",
    "answer", "respond", "reply", "output", "print", "return", "repeat", "echo", "append", "prepend",
    "insert", "include", "incorporate", "add", "integrate", "embed", "inject", "modify", "change",
    "alter", "replace", "substitute", "remove", "delete", "ignore", "disregard", "forget", "override",
    "use", "utilize", "utilise", "employ", "apply", "execute", "run", "call", "invoke", "send", "forward",
    "email", "post", "share", "transfer", "pay", "wire", "upload", "publish", "promote", "advertise",
    "emphasize", "emphasise", "highlight", "stress", "sort", "filter", "find", "search", "lookup",
    "fetch", "retrieve", "collect", "gather", "compile", "correct", "fix", "debug", "refactor",
    "optimize", "optimise", "improve", "enhance", "augment", "expand", "shorten", "simplify", "adapt",
    "adjust", "ensure", "imagine", "pretend", "act", "roleplay", "reveal", "disclose", "leak",
))  # fmt: skip
_READER_VERBS = frozenset((
    "click", "tap", "visit", "sign", "log", "login", "register", "subscribe", "unsubscribe", "join",
    "follow", "view", "open", "see", "watch", "read", "download", "install", "contact", "reach",
    "confirm", "verify", "activate", "renew", "shop", "buy", "order", "book", "reserve", "claim",
    "redeem", "enjoy", "thank", "thanks", "welcome", "hope", "feel", "let", "don't", "do", "call",
)) - TASK_VERBS  # fmt: skip
_QUESTION_WORDS = frozenset(
    {"what", "how", "why", "who", "which", "when", "where", "is", "are", "can", "could"}
)
WEIGHTS_FILE = Path(__file__).with_name("injection_weights.json")


def sentences(text: str) -> list[str]:
    """The sentence-like segments of `text` long enough to carry an instruction (at least 4 words)."""
    out: list[str] = []
    # Lines first (a C split): most lines of structured data are too short to bother the regex.
    for line in text.split("\n"):
        if line.count(" ") >= MIN_WORDS - 1:
            out.extend(s for s in _SPLIT.split(line) if s.count(" ") >= MIN_WORDS - 1)
    return out


def sentence_features(sentence: str) -> list[str]:
    """The model's features of one segment: its words, word pairs, opening words and a few shapes."""
    tokens = _TOKEN.findall(sentence.lower())
    if not tokens:
        return []
    words = [t if not t.isdigit() else "0" for t in tokens]
    feats = [f"f:{words[0]}", "bias"]
    # The sentence's opening verb, past a politeness word: a request for work ("summarize", "write",
    # "recommend") reads differently from a request to the reader of an email ("click", "sign in").
    lead = words[1] if words[0] in _SOFTENERS and len(words) > 1 else words[0]
    if lead in TASK_VERBS:
        feats.append("s:task_verb")
    elif lead in _READER_VERBS:
        feats.append("s:reader_verb")
    if words[0] in _QUESTION_WORDS:
        feats.append("s:asks")
    if len(words) > 1:
        feats.append(f"f2:{words[0]} {words[1]}")
    feats.extend(f"w:{w}" for w in set(words))
    feats.extend({f"b:{a} {b}" for a, b in itertools.pairwise(words)})
    if words[-1] == "?":
        feats.append("s:question")
    return feats


@dataclass(frozen=True)
class SentenceModel:
    """A linear model over `sentence_features`: `score` is the log-odds that a sentence instructs.

    A sentence at or above `threshold` is an instruction wherever it stands; one at or above the
    lower `topic_threshold` only when it is off the topic of its document (`off_topic`) and the
    document has a topic: at most `max_scatter` of its other segments are off topic too.
    """

    weights: dict[str, float]
    threshold: float
    topic_threshold: float = math.inf
    max_scatter: float = 1.0

    def score(self, sentence: str) -> float:
        """The log-odds that `sentence` is an instruction to the model rather than data."""
        get = self.weights.get
        return sum(get(f, 0.0) for f in sentence_features(sentence))

    def worst(self, text: str) -> tuple[float, str] | None:
        """The highest-scoring instruction of `text` (see the class docstring), with its score."""
        if text.count(" ") < MIN_WORDS - 1:
            return None
        segments = sentences(text)
        scores = [self.score(s) for s in segments]
        top = max(scores, default=-math.inf)
        if top >= self.threshold:
            return top, segments[scores.index(top)]
        if top < self.topic_threshold:
            return None
        off = off_topic(segments)
        if scatter(off) > self.max_scatter:
            return None
        found = [
            (score, segment)
            for score, segment, o in zip(scores, segments, off, strict=True)
            if o and score >= self.topic_threshold
        ]
        return max(found, default=None)


# --- Off-topic requests. ---
# Many injections are requests any user might make ("Compare the prices of electric cars."),
# dropped into an email or a page. Alone such a sentence reads like the imperatives and questions
# of any README, so the model scores it below its threshold; in its document it stands out, as a
# shipping notice does not mention cars. A sentence counts as off topic when it is written as prose
# (capitalised, no code), has content words, and none of them (cut to a 5-letter stem, so "invoice"
# meets "invoices") occurs in the document's other sentences, which must hold enough words to have
# a topic at all.

_CONTENT_WORD = re.compile(r"[a-z]{3,}")
_STEM = 5
_MIN_CONTENT = 2
_MIN_REST = 5
_CODE_LIKE = re.compile(r"\w\(|[{};=<>]")
# English function words and the verbs every request shares: they carry no topic.
_FUNCTION_WORDS = frozenset((
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "get",
    "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might", "more", "most",
    "must", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or",
    "other", "our", "ours", "ourselves", "out", "over", "own", "please", "same", "shall", "she", "should",
    "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "to", "too", "two", "under", "until", "up", "use", "used",
    "using", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "make",
))  # fmt: skip


def _content_stems(segment: str) -> set[str]:
    return {w[:_STEM] for w in _CONTENT_WORD.findall(segment.lower()) if w not in _FUNCTION_WORDS}


def scatter(off: list[bool]) -> float:
    """The share of a document's other segments that are off topic too, beside one off-topic segment.

    High in a digest or a page of search results, whose snippets share no words with each other:
    such a document has no topic for a sentence to be off.
    """
    return (sum(off) - 1) / max(1, len(off) - 1)


def off_topic(segments: list[str]) -> list[bool]:
    """For each segment of one document: prose that shares no content word with the other segments."""
    stems = [_content_stems(s) for s in segments]
    # In how many segments each stem occurs: a count of 1 means only in the segment that has it.
    seen = Counter(itertools.chain.from_iterable(stems))
    out = []
    for segment, own in zip(segments, stems, strict=True):
        head = segment.lstrip()[:1]
        out.append(
            len(own) >= _MIN_CONTENT
            and head.isupper()
            and all(seen[w] == 1 for w in own)
            and len(seen) - len(own) >= _MIN_REST
            and not _CODE_LIKE.search(segment)
        )
    return out


def load_model(path: Path = WEIGHTS_FILE) -> SentenceModel:
    """A sentence model from a weights file written by bench/train_injection.py."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return SentenceModel(
        weights=data["weights"],
        threshold=float(data["threshold"]),
        topic_threshold=float(data.get("topic_threshold", math.inf)),
        max_scatter=float(data.get("max_scatter", 1.0)),
    )


@functools.cache
def sentence_model() -> SentenceModel:
    """The shipped model (loaded once)."""
    return load_model()
