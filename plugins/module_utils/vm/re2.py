# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""A syntax check for Go (RE2) regular expressions.

VictoriaMetrics compiles relabel regexes with Go's regexp package, which
follows RE2: no lookarounds, no back-references, no possessive or atomic
groups.  Python's re accepts all of those and rejects some things Go takes,
so it cannot answer "would vmagent accept this?".  This module walks the
pattern the way Go's parser does and reports the first construct Go refuses.
It checks syntax only; it does not match anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

_REPEAT_LIMIT = 1000
_PERL_CLASSES = frozenset("dDsSwW")
_ZERO_WIDTH_ESCAPES = frozenset("AbBz")
_CONTROL_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_POSIX_CLASSES = frozenset(
    "alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit".split()
)
_UNICODE_CATEGORIES = frozenset(
    "Any C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps "
    "S Sc Sk Sm So Z Zl Zp Zs".split()
)
# Unicode script names Go's regexp knows (\p{Greek}); Go 1.19 has Unicode
# 13, later Go versions add the last few.
_UNICODE_SCRIPTS = frozenset("""
Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki
Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee
Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan
Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited
Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi
Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani
Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui
Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari
New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian
Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong
Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian
Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le
Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai
Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square
""".split())
_FLAG_LETTERS = frozenset("imsU")


class RegexSyntaxError(ValueError):
    """Go's regexp would refuse the pattern; str() says why and where."""


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _is_unicode_class_name(name: str) -> bool:
    return name in _UNICODE_CATEGORIES or name in _UNICODE_SCRIPTS


@dataclass
class _Parser:
    pattern: str
    angle_named_groups: bool
    pos: int = 0
    open_groups: int = 0
    # What a repetition operator would apply to: "none" at the start of the
    # pattern, after "(" or "|"; "repeat" right after another repetition.
    last: str = "none"

    def fail(self, message: str, start: int) -> None:
        raise RegexSyntaxError(f"{message}: `{self.pattern[start:self.pos] or self.pattern[start:]}`")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.pattern[index] if index < len(self.pattern) else ""

    def run(self) -> None:
        while self.pos < len(self.pattern):
            self.step()
        if self.open_groups:
            raise RegexSyntaxError(f"missing closing ): `{self.pattern}`")

    def step(self) -> None:
        char = self.peek()
        if char == "(":
            self.open_group()
        elif char == ")":
            if not self.open_groups:
                self.pos += 1
                raise RegexSyntaxError(f"unexpected ): `{self.pattern}`")
            self.open_groups -= 1
            self.pos += 1
            self.last = "atom"
        elif char == "|":
            self.pos += 1
            self.last = "none"
        elif char in "*+?":
            start = self.pos
            self.pos += 1
            self.apply_repeat(start)
        elif char == "{":
            self.brace()
        elif char == "[":
            self.char_class()
            self.last = "atom"
        elif char == "\\":
            self.escape_outside_class()
        else:
            self.pos += 1
            self.last = "atom"

    def apply_repeat(self, start: int) -> None:
        if self.peek() == "?":
            self.pos += 1
        if self.last == "none":
            self.fail("missing argument to repetition operator", start)
        if self.last == "repeat":
            self.fail("invalid nested repetition operator", start - 1)
        self.last = "repeat"

    def brace(self) -> None:
        start = self.pos
        bounds = self.read_repeat_bounds()
        if bounds is None:
            # Go treats a "{" that does not start {n}, {n,} or {n,m} as a literal.
            self.pos = start + 1
            self.last = "atom"
            return
        low, high = bounds
        if low > _REPEAT_LIMIT or (high is not None and (high > _REPEAT_LIMIT or high < low)):
            self.fail("invalid repeat count", start)
        self.apply_repeat(start)

    def read_repeat_bounds(self) -> tuple[int, int | None] | None:
        text = self.pattern
        end = text.find("}", self.pos)
        if end < 0:
            return None
        body = text[self.pos + 1:end]
        low_text, comma, high_text = body.partition(",")
        if not _is_go_repeat_number(low_text):
            return None
        if comma and high_text and not _is_go_repeat_number(high_text):
            return None
        self.pos = end + 1
        low = int(low_text)
        if not comma:
            return low, low
        return low, (int(high_text) if high_text else None)

    def open_group(self) -> None:
        start = self.pos
        self.pos += 1
        if self.peek() != "?":
            self.open_groups += 1
            self.last = "none"
            return
        if self.pattern.startswith("?P<", self.pos) or (
            self.angle_named_groups and self.peek(1) == "<" and self.peek(2) not in ("=", "!")
        ):
            self.named_group(start)
            return
        self.pos += 1
        self.flag_group(start)

    def named_group(self, start: int) -> None:
        name_start = self.pattern.index("<", self.pos) + 1
        name_end = self.pattern.find(">", name_start)
        if name_end < 0:
            self.pos = len(self.pattern)
            self.fail("invalid named capture", start)
        name = self.pattern[name_start:name_end]
        self.pos = name_end + 1
        if not name or not all(_is_ascii_alnum(c) or c == "_" for c in name):
            self.fail("invalid named capture", start)
        self.open_groups += 1
        self.last = "none"

    def flag_group(self, start: int) -> None:
        negated = False
        saw_flag = False
        while self.pos < len(self.pattern):
            char = self.peek()
            self.pos += 1
            if char in _FLAG_LETTERS:
                saw_flag = True
            elif char == "-" and not negated:
                negated = True
                saw_flag = False
            elif char in ":)":
                if negated and not saw_flag:
                    break
                if char == ":":
                    self.open_groups += 1
                    self.last = "none"
                elif self.last == "repeat":
                    self.last = "atom"
                return
            else:
                break
        # Lookarounds (?= (?! (?<= (?<!, atomic (?>, comments (?# ... all land here.
        self.fail("invalid or unsupported Perl syntax", start)

    def escape_outside_class(self) -> None:
        start = self.pos
        letter = self.peek(1)
        if letter == "Q":
            self.quoted_literal()
            return
        if letter and (letter in _ZERO_WIDTH_ESCAPES or letter in _PERL_CLASSES):
            self.pos += 2
        elif letter in ("p", "P"):
            self.unicode_class(start)
        else:
            self.read_escape_value(start)
        self.last = "atom"

    def quoted_literal(self) -> None:
        end = self.pattern.find("\\E", self.pos + 2)
        literal_end = len(self.pattern) if end < 0 else end
        if literal_end > self.pos + 2:
            self.last = "atom"
        self.pos = len(self.pattern) if end < 0 else end + 2

    def unicode_class(self, start: int) -> None:
        self.pos += 2
        if self.peek() == "{":
            end = self.pattern.find("}", self.pos)
            if end < 0:
                self.pos = len(self.pattern)
                self.fail("invalid character class range", start)
            name = self.pattern[self.pos + 1:end].lstrip("^")
            self.pos = end + 1
        else:
            name = self.peek()
            self.pos += 1
        if not name or not _is_unicode_class_name(name):
            self.fail("invalid character class range", start)

    def read_escape_value(self, start: int) -> int:
        """Read a single-character escape at pos and return its code point."""
        self.pos += 1
        char = self.peek()
        if not char:
            raise RegexSyntaxError("trailing backslash at end of expression")
        self.pos += 1
        if char in "1234567":
            # A lone \1..\7 would be a back-reference, which RE2 lacks; only
            # an octal number of two or three digits is allowed.
            if not ("0" <= self.peek() <= "7"):
                self.fail("invalid escape sequence", start)
            return self.read_octal(char)
        if char == "0":
            return self.read_octal(char)
        if char == "x":
            return self.read_hex(start)
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char.isascii() and not _is_ascii_alnum(char):
            return ord(char)
        self.fail("invalid escape sequence", start)
        return 0

    def read_octal(self, first_digit: str) -> int:
        digits = first_digit
        while len(digits) < 3 and "0" <= self.peek() <= "7":
            digits += self.peek()
            self.pos += 1
        return int(digits, 8)

    def read_hex(self, start: int) -> int:
        if self.peek() == "{":
            end = self.pattern.find("}", self.pos)
            digits = self.pattern[self.pos + 1:end] if end >= 0 else ""
            self.pos = end + 1 if end >= 0 else len(self.pattern)
            if not digits or not _is_hex(digits) or int(digits, 16) > 0x10FFFF:
                self.fail("invalid escape sequence", start)
            return int(digits, 16)
        digits = self.pattern[self.pos:self.pos + 2]
        self.pos += len(digits)
        if len(digits) != 2 or not _is_hex(digits):
            self.fail("invalid escape sequence", start)
        return int(digits, 16)

    def char_class(self) -> None:
        start = self.pos
        self.pos += 1
        if self.peek() == "^":
            self.pos += 1
        first = True
        while first or self.peek() != "]":
            if not self.peek():
                raise RegexSyntaxError(f"missing closing ]: `{self.pattern[start:]}`")
            first = False
            if self.posix_class(start):
                continue
            if self.peek() == "\\" and self.peek(1) and self.peek(1) in _PERL_CLASSES:
                self.pos += 2
                continue
            if self.peek() == "\\" and self.peek(1) in ("p", "P"):
                self.unicode_class(self.pos)
                continue
            low = self.class_char(start)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.class_char(start)
                if high < low:
                    self.fail("invalid character class range", start)
        self.pos += 1

    def posix_class(self, class_start: int) -> bool:
        if not self.pattern.startswith("[:", self.pos):
            return False
        end = self.pattern.find(":]", self.pos + 2)
        if end < 0:
            return False
        name = self.pattern[self.pos + 2:end].lstrip("^")
        self.pos = end + 2
        if name not in _POSIX_CLASSES:
            self.fail("invalid character class range", class_start)
        return True

    def class_char(self, class_start: int) -> int:
        char = self.peek()
        if not char:
            raise RegexSyntaxError(f"missing closing ]: `{self.pattern[class_start:]}`")
        if char == "\\":
            return self.read_escape_value(self.pos)
        self.pos += 1
        return ord(char)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _is_go_repeat_number(text: str) -> bool:
    # Go takes a brace with a leading-zero number ({01}) as a literal.
    if not text.isdigit() or not text.isascii():
        return False
    return len(text) == 1 or text[0] != "0"


@lru_cache(maxsize=4096)
def _syntax_error(pattern: str, angle_named_groups: bool) -> str | None:
    # Configs repeat the same few regexes across thousands of jobs.
    try:
        _Parser(pattern, angle_named_groups).run()
    except RegexSyntaxError as exc:
        return str(exc)
    return None


def check_re2(pattern: str, *, angle_named_groups: bool = False) -> None:
    """Raise RegexSyntaxError if Go's regexp.Compile would refuse the pattern.

    ``angle_named_groups`` says whether ``(?<name>re)`` is a named group
    (Go 1.22 and later) rather than an error.
    """
    error = _syntax_error(pattern, angle_named_groups)
    if error is not None:
        raise RegexSyntaxError(error)
