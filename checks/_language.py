"""Tell the language of a short message from its function words: enough to see French turn into English.

Deterministic and cheap (a set lookup per word). It answers only when the evidence is clear: a
message of at least `MIN_WORDS` words where one language's function words clearly outnumber the
others'; otherwise None (no verdict on "OK!" or "A1001").
"""

import re

MIN_WORDS = 6
_WORDS = re.compile(r"[a-zàâäçéèêëîïôöùûüÿñáíóúãõœß']+", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Short words that say little but say which language: a set lookup per word of a message.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an and or is are was were be been of to in on for with your you i we it this that "
        "have has will can please order not my our at by from"
    ),
    "fr": _words(
        "le la les un une et ou est sont été de du des à au aux en pour avec votre vous je nous "
        "il ce cette que qui ne pas mon notre sur par dans commande"
    ),
    "de": _words(
        "der die das ein eine und oder ist sind war waren von zu im in für mit ihr ihre sie ich "
        "wir es dies dass nicht mein unser auf bei aus bestellung"
    ),
    "es": _words(
        "el la los las un una y o es son fue de del a en para con su usted yo nosotros este esta "
        "que no mi nuestro por pedido"
    ),
    "it": _words(
        "il lo la gli le un una e o è sono era di del della a in per con suo lei io noi questo "
        "questa che non mio nostro su da ordine"
    ),
    "pt": _words(
        "o a os as um uma e ou é são foi de do da em para com seu você eu nós este esta que não "
        "meu nosso por pedido"
    ),
    "nl": _words(
        "de het een en of is zijn was waren van te in op voor met uw u ik wij dit dat niet mijn "
        "ons bij uit bestelling"
    ),
}


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language when its function words say so clearly, else None."""
    words = [w.lower() for w in _WORDS.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    scores = sorted(
        ((sum(w in vocabulary for w in words), code) for code, vocabulary in _FUNCTION_WORDS.items()),
        reverse=True,
    )
    (best, code), (second, _) = scores[0], scores[1]
    if best >= 3 and best >= 1.5 * second:
        return code
    return None


LANGUAGE_NAMES = {
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
}
