"""The keyword grammar: what an inbound text asks for (opt out, opt in, help, join by keyword, or nothing).

Exact keywords are matched after case, surrounding whitespace and punctuation are stripped. Beyond them the opt-out
grammar understands the ways people actually write STOP (politeness, emphasis, repetition, spaced letters, one-letter
typos, emoji, Spanish) and plain-language revocations ("please stop texting me"): the FCC treats any reasonable way of
saying no as one, so a text that is mostly about not being texted opts out. Every decision names the rule that made
it (`Classification.rule`), which the consent ledger keeps as evidence.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"  # START, UNSTOP, YES, SUBSCRIBE
    KEYWORD = "keyword"  # one of the number's business keywords: an opt-in too
    HELP = "help"
    MESSAGE = "message"  # an ordinary message, for the business's inbox


OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "yes", "subscribe"})
HELP_WORDS = frozenset({"help", "info"})

# Single words that mean stop on their own (or with politeness around them), and the keyword each stands for.
STOP_TOKENS = {
    "stop": "stop",
    "stopall": "stopall",
    "unsubscribe": "unsubscribe",
    "unsub": "unsubscribe",
    "cancel": "cancel",
    "end": "end",
    "quit": "quit",
    "revoke": "revoke",
    "optout": "optout",
}
SPANISH_STOP_TOKENS = frozenset({"alto", "parar", "para", "pare", "paren", "cancelar", "baja", "basta", "desuscribir"})
# Typos are forgiven only against words of four letters or more, one edit away (a swap of neighbours counts as one).
FUZZY_TARGETS = ("stop", "stopall", "unsubscribe", "cancel", "quit", "revoke", "optout", "cancelar", "parar")
# Real words one edit from a target: written alone they are not a typo for it.
REAL_WORDS = frozenset(
    {
        "step", "shop", "stoop", "slop", "stow", "atop", "stomp", "strop", "swop", "scop", "stob", "sop",
        "quiz", "quite", "quiet", "quilt", "quid", "quip", "suit", "quint", "squit", "quits",
        "cancer", "canceled",
        "pagar", "pasar", "parir", "parra", "parad", "paras", "parear",
    }
)  # fmt: skip
# Words that add politeness or emphasis to a keyword without changing what it means.
POLITENESS = frozenset(
    {
        "please", "pls", "plz", "plse", "pleaseee", "thanks", "thank", "you", "thx", "ty", "thankyou", "kindly",
        "por", "favor", "porfavor", "porfa", "gracias",
    }
)  # fmt: skip
EMPHASIS = frozenset(
    {
        "now", "it", "asap", "already", "immediately", "right", "away", "ok", "okay", "seriously", "just", "all",
        "them", "this", "that", "me", "again", "omg", "god", "dude", "man", "lol", "wtf", "ffs", "i",
        "ya", "ahora", "mismo", "ahorita", "yo",
    }
)  # fmt: skip
STOP_EMOJI = frozenset({"\U0001f6d1", "\u26d4", "\U0001f6ab"})  # stop sign, no entry, prohibited

# What "texts" are called, in English and Spanish.
_MESSAGING = (
    r"(?:text(?:s|ing|ed)?|messag(?:e|es|ing)|msgs?|sms|alerts?|notifications?|promos?|promotions?|ads|spam(?:ming)?"
    r"|marketing|subscriptions?|newsletters?|blasts?|offers|deals)"
)
_ES_MESSAGING = r"(?:mensajes?|mensajitos|textos?|sms|msj|notificaciones|alertas|promociones|ofertas|suscripcion)"
# Politeness that may follow a whole short revocation ("no more, thanks").
_FILLER = r"(?:[\s,.!]+(?:please|pls|plz|thanks|thank you|thx|now|ok|okay|por favor|gracias|ya|asap))*"
# Small words between "don't want" and "texts": "I don't want to receive any more of your texts".
_BETWEEN = (
    r"(?:\s+(?:these|those|the|your|any|more|to|get|receive|recieve|getting|receiving|of|further|marketing"
    r"|promotional|this|such|all|them|be|being|texted|sent|anymore|ur))*"
)

# (rule, pattern) — the rule is the evidence's name for the decision. Tried in order against the folded text.
REVOCATION_PHRASES = [
    (name, re.compile(pattern))
    for name, pattern in (
        # English
        ("phrase:en:stop-texting", rf"\b(?:stop|quit|cease)\b(?:\s+\w+){{0,3}}?\s+{_MESSAGING}\b"),
        (
            "phrase:en:end-texts",
            rf"\b(?:end|halt|enough(?: with)?)\s+(?:the |these |all |your |my |of )*{_MESSAGING}\b",
        ),
        ("phrase:en:stop-contacting", r"\b(?:stop|quit|cease) (?:contacting|calling|bothering|spamming|sending)\b"),
        (
            "phrase:en:dont-want-texts",
            rf"\b(?:do not|dont|don't|no longer|never) (?:want|wish|need|like){_BETWEEN}\s+{_MESSAGING}\b",
        ),
        (
            "phrase:en:dont-text-me",
            rf"\b(?:do not|dont|don't|never)\s+(?:ever\s+)?{_MESSAGING}\s+"
            r"(?:me|us|this|my|here|again|anymore|any more)\b",
        ),
        ("phrase:en:dont-contact-me", r"\b(?:do not|dont|don't|never) (?:contact|call|message|bother) (?:me|us)\b"),
        (
            "phrase:en:never-signed-up",
            r"\b(?:never|didn't|didnt|did not|don't remember|dont remember)\s+(?:ever\s+)?"
            r"(?:sign(?:ed)? up|subscribed?|opt(?:ed)?(?: |-)?in|asked|agreed|consented)"
            r"(?:$|\s*[.,;!?]|\s+(?:for|to)\s+(?:this|these|that|any|your|ur|texts?|messages?|alerts?|receive|get|be)\b)",
        ),
        (
            "phrase:en:remove-my-number",
            r"\b(?:lose|delete|remove|erase|forget|scrub|wipe)\s+(?:my|this|our|the)\s+(?:phone\s+|cell\s+)?"
            r"(?:number|phone|cell)\b",
        ),
        ("phrase:en:remove-me", r"\b(?:remove|delete|erase) (?:me|us)\b"),
        ("phrase:en:take-me-off", r"\btake (?:me|us|my number|this number|my phone) off\b"),
        ("phrase:en:opt-me-out", r"\bopt (?:me|us) out\b"),
        ("phrase:en:opt-out", r"\bopt(?:\s|-)?out\b"),
        ("phrase:en:unsubscribe", r"\b(?:unsubscribe|unsub|unsubscribing)\b"),
        (
            "phrase:en:revoke-consent",
            r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|cancel|cancell?ing)\b(?:\s+\w+){0,2}?\s+"
            r"(?:consent|permission|authori[sz]ation|opt(?: |-)?in)\b",
        ),
        (
            "phrase:en:cancel-texts",
            rf"\b(?:cancel|cancell?ing)\s+(?:my\s+|the\s+|these\s+|all\s+|your\s+)?{_MESSAGING}\b",
        ),
        ("phrase:en:no-more-texts", rf"\bno more\s+(?:\w+\s+){{0,2}}?{_MESSAGING}\b"),
        ("phrase:en:no-more", rf"^(?:(?:please|pls|plz|ok|okay),?\s+)?no more{_FILLER}$"),
        ("phrase:en:leave-me-alone", r"\bleave me alone\b"),
        ("phrase:en:wrong-number", r"\bwrong (?:number|person|phone)\b"),
        ("phrase:en:not-interested", rf"^(?:i'?m |i am |we'?re |we are )?not interested{_FILLER}$"),
        ("phrase:en:stop-at-end", r"[.,;:!?\-]\s*(?:please\s+|just\s+)?(?:stop|unsubscribe|opt out|optout|stopall)$"),
        ("phrase:en:stop-at-start", r"^(?:stop|unsubscribe|optout|stopall|opt out)\s*[.,;:!\-]"),
        # Spanish
        ("phrase:es:darme-de-baja", r"\b(?:dar(?:me|nos|se)?|dame|denme|deme|den|doy|quiero) de baja\b"),
        ("phrase:es:no-mas-mensajes", rf"\bno (?:mas|quiero mas|quiero recibir mas)\s+(?:\w+\s+)?{_ES_MESSAGING}\b"),
        ("phrase:es:no-mas", rf"^no mas{_FILLER}$"),
        ("phrase:es:ya-no", rf"^ya no{_FILLER}$"),
        (
            "phrase:es:no-me-envien",
            r"\bno (?:me |nos )?(?:envien|envies|envie|manden|mandes|mande|escriban|escribas|contacten|molesten)"
            rf"(?: mas)?(?: {_ES_MESSAGING})?(?: mas)?{_FILLER}(?:$|\s*[.,!;])",
        ),
        (
            "phrase:es:dejen-de",
            r"\b(?:dejen|deja|deje|paren|pare|para) de (?:enviar|mandar|escribir|contactar|molestar)\w*",
        ),
        (
            "phrase:es:no-quiero-mensajes",
            r"\bno (?:quiero|deseo)(?:\s+(?:recibir|mas|sus|tus|los|estos|esos|ningun|ningunos)){0,3}"
            rf"\s+{_ES_MESSAGING}\b",
        ),
        ("phrase:es:ya-no-quiero", rf"^ya no (?:quiero|deseo)(?: (?:recibir|nada|mas))*{_FILLER}$"),
        ("phrase:es:cancelar-suscripcion", rf"\bcancelar\s+(?:mi |la |los |mis )?{_ES_MESSAGING}\b"),
        ("phrase:es:borren-mi-numero", r"\b(?:borr|elimin|quit|sac)\w*\s+(?:mi|este) (?:numero|telefono|celular)\b"),
        (
            "phrase:es:sacame-de-la-lista",
            r"\b(?:sa(?:que|ca)n?me|quit(?:e|a|en)n?me|borr(?:e|a|en)n?me) de "
            r"(?:la |su |tu |esta |sus )?(?:lista|base)",
        ),
        ("phrase:es:numero-equivocado", r"\bnumero equivocado\b"),
        ("phrase:es:nunca-me-suscribi", r"\bnunca (?:me )?(?:suscribi|inscribi|registre|autorice)\b"),
    )
]

# Sentences that mention a stop word without asking to stop ("Don't stop the deliveries", "no more than 2 please",
# "I'll stop by"): in them only the phrases that say so outright count.
NOT_REVOCATIONS = [
    re.compile(p)
    for p in (
        r"\b(?:don't|dont|do not|please don't) stop\b",
        r"\bno more than\b",
        r"\bstop(?:ping)? (?:by|in|over)\b",
    )
]
# Phrases that revoke even in such a sentence ("I'll stop by to sign the lease, and please remove my number").
STRONG_PHRASES = frozenset(
    {
        "phrase:en:remove-my-number",
        "phrase:en:opt-me-out",
        "phrase:en:unsubscribe",
        "phrase:en:revoke-consent",
        "phrase:en:never-signed-up",
        "phrase:en:dont-text-me",
        "phrase:en:dont-want-texts",
        "phrase:en:take-me-off",
        "phrase:en:wrong-number",
    }
)


@dataclass(frozen=True)
class Classification:
    intent: Intent
    keyword: str = ""  # the matched business keyword, in its stored spelling
    qr_ref: str = ""  # "Q7K2" when the text is a QR code's prefilled "JOIN Q7K2"
    rule: str = ""  # for an opt-out, the rule that decided: "fcc-keyword:stop", "phrase:en:remove-me"...

    @property
    def understood(self) -> bool:
        """An opt-out read from anything but the bare keyword: the business is shown how it was understood."""
        return self.intent == Intent.OPT_OUT and not (self.rule.startswith("fcc-keyword:") and "+" not in self.rule)


# The reference a QR code adds to its prefilled text (tracking.models.new_ref): Q and three letters or digits.
QR_REF = re.compile(r"^q[2-9a-z]{3}$")


def normalize(text: str) -> str:
    """Casefold, drop surrounding punctuation and symbols, collapse inner whitespace."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"\s+", " ", text).strip()
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


def fold(text: str) -> str:
    """The text as the phrase rules read it: casefolded, accents and curly quotes gone, one space between words."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip()


def edit_distance_one(word: str, target: str) -> bool:
    """True when `word` is one insertion, deletion, substitution or swap of neighbouring letters from `target`."""
    if word == target or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and word[diffs[0]] == target[diffs[1]]
            and (word[diffs[1]] == target[diffs[0]])
        )
    short, long = sorted((word, target), key=len)
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return True
    return False


def _letters_spelled_out(text: str) -> str:
    """ "S T O P", "s.t.o.p", "S-T-O-P" → "stop"; anything else → ""."""
    parts = [p for p in re.split(r"[\s.\-_*·,]+", text) if p]
    if len(parts) >= 3 and all(len(p) == 1 and p.isalpha() for p in parts):
        return "".join(parts)
    return ""


def _stop_token(token: str) -> tuple[str, str]:
    """(keyword, how) for a word that by itself means stop, else ("", ""). `how` is "exact", "es", "emphasis"
    (a letter held down: "stopppp") or the edit-distance rule."""
    if token in STOP_TOKENS:
        return STOP_TOKENS[token], "exact"
    if token in SPANISH_STOP_TOKENS:
        return token, "es"
    held = re.sub(r"(.)\1{2,}", r"\1", token)  # "stoppppp", "stooop" → "stop"
    if held != token and held in STOP_TOKENS:
        return STOP_TOKENS[held], "emphasis"
    if len(token) >= 4 and token not in REAL_WORDS:
        for target in FUZZY_TARGETS:
            if edit_distance_one(token, target):
                return STOP_TOKENS.get(target, target), f"edit-distance:{token}\u2192{target}"
    return "", ""


def _keyword_with_extras(folded: str) -> str:
    """The rule for a short text that is a stop word with politeness, emphasis, repetition, a number or emoji around
    it ("stop please", "STOP NOW", "stop stop", "STOP 2", "STOP 🙏", "Stopp", "alto por favor"), else ""."""
    words = re.findall(r"[a-z0-9']+", folded)
    if not words or len(words) > 6:
        return ""
    found, extras = [], set()
    for word in words:
        keyword, how = _stop_token(word.replace("'", ""))
        if keyword:
            found.append((keyword, how))
        elif word.isdigit() and found:
            extras.add("number")  # "STOP 2": the number is the consumer's, the meaning is stop
        elif word in POLITENESS:
            extras.add("politeness")
        elif word in EMPHASIS:
            extras.add("emphasis")
        else:
            return ""
    if not found:
        return ""
    keyword, how = found[0]
    if len(found) > 1:
        extras.add("repetition")
    if any(c in STOP_EMOJI or unicodedata.category(c) == "So" for c in folded):
        extras.add("emoji")
    if "!!" in folded or how == "emphasis":
        extras.add("emphasis")
    suffix = "".join(f"+{extra}" for extra in sorted(extras))
    if how.startswith("edit-distance:"):
        return how + suffix
    if how == "es":
        return f"phrase:es:{keyword}{suffix}"
    return f"fcc-keyword:{keyword}{suffix}"


def opt_out_rule(text: str) -> str:
    """The rule by which `text` revokes consent, or "" when it does not."""
    word = normalize(text).replace("-", " ")
    if word in OPT_OUT_WORDS:
        return f"fcc-keyword:{word.replace(' ', '')}"
    stripped = "".join(c for c in (text or "") if not c.isspace())
    if stripped and all(c in STOP_EMOJI or c == "\ufe0f" for c in stripped):
        return "emoji:stop-sign"
    folded = fold(text)
    spelled = _letters_spelled_out(folded)
    if spelled:
        keyword, how = _stop_token(spelled)
        if keyword and how in ("exact", "es"):
            return f"spaced-letters:{spelled}"
    rule = _keyword_with_extras(folded)
    if rule:
        return rule
    bare = normalize(folded)
    guarded = any(pattern.search(bare) for pattern in NOT_REVOCATIONS)
    for name, pattern in REVOCATION_PHRASES:
        if (not guarded or name in STRONG_PHRASES) and pattern.search(bare):
            return name
    return ""


def classify(text: str, business_keywords: Iterable[str] = ()) -> Classification:
    word = normalize(text)
    if word.replace("-", " ") in OPT_OUT_WORDS:
        return Classification(Intent.OPT_OUT, rule=f"fcc-keyword:{word.replace('-', '').replace(' ', '')}")
    if word in OPT_IN_WORDS:
        return Classification(Intent.OPT_IN)
    if word in HELP_WORDS:
        return Classification(Intent.HELP)
    first, _, rest = word.partition(" ")
    qr_ref = rest.upper() if QR_REF.match(rest) else ""
    for keyword in business_keywords:
        if normalize(keyword) == word:
            return Classification(Intent.KEYWORD, keyword=keyword)
        if qr_ref and normalize(keyword) == first:
            return Classification(Intent.KEYWORD, keyword=keyword, qr_ref=qr_ref)
    rule = opt_out_rule(text)
    if rule:
        return Classification(Intent.OPT_OUT, rule=rule)
    return Classification(Intent.MESSAGE)
