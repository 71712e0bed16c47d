"""Which writing system a text is in: the Unicode script of its letters (UAX #24), by ISO 15924 code.

The table below is Unicode's script list (code and property name, as the ``regex`` module names them); a character's
script is found by one regular expression of them all, once per distinct character.

Example:
    >>> dominant_script("Всеобщая декларация прав человека")
    'Cyrl'
    >>> SCRIPT_NAMES["Ethi"]
    'Ethiopic'
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import regex

_TABLE = """
Adlm:Adlam Aghb:Caucasian_Albanian Ahom:Ahom Arab:Arabic Armi:Imperial_Aramaic Armn:Armenian Avst:Avestan
Bali:Balinese Bamu:Bamum Bass:Bassa_Vah Batk:Batak Beng:Bengali Berf:Beria_Erfe Bhks:Bhaiksuki Bopo:Bopomofo
Brah:Brahmi Brai:Braille Bugi:Buginese Buhd:Buhid Cakm:Chakma Cans:Canadian_Aboriginal Cari:Carian Cham:Cham
Cher:Cherokee Chrs:Chorasmian Copt:Coptic Cpmn:Cypro_Minoan Cprt:Cypriot Cyrl:Cyrillic Deva:Devanagari
Diak:Dives_Akuru Dogr:Dogra Dsrt:Deseret Dupl:Duployan Egyp:Egyptian_Hieroglyphs Elba:Elbasan Elym:Elymaic
Ethi:Ethiopic Gara:Garay Geor:Georgian Glag:Glagolitic Gong:Gunjala_Gondi Gonm:Masaram_Gondi Goth:Gothic
Gran:Grantha Grek:Greek Gujr:Gujarati Gukh:Gurung_Khema Guru:Gurmukhi Hang:Hangul Hani:Han Hano:Hanunoo
Hatr:Hatran Hebr:Hebrew Hira:Hiragana Hluw:Anatolian_Hieroglyphs Hmng:Pahawh_Hmong Hmnp:Nyiakeng_Puachue_Hmong
Hrkt:Katakana_Or_Hiragana Hung:Old_Hungarian Ital:Old_Italic Java:Javanese Jurc:Jurchen Kali:Kayah_Li
Kana:Katakana Kawi:Kawi Khar:Kharoshthi Khmr:Khmer Khoj:Khojki Kits:Khitan_Small_Script Knda:Kannada
Krai:Kirat_Rai Kthi:Kaithi Lana:Tai_Tham Laoo:Lao Latn:Latin Lepc:Lepcha Limb:Limbu Lina:Linear_A Linb:Linear_B
Lisu:Lisu Lyci:Lycian Lydi:Lydian Mahj:Mahajani Maka:Makasar Mand:Mandaic Mani:Manichaean Marc:Marchen
Medf:Medefaidrin Mend:Mende_Kikakui Merc:Meroitic_Cursive Mero:Meroitic_Hieroglyphs Mlym:Malayalam Modi:Modi
Mong:Mongolian Mroo:Mro Mtei:Meetei_Mayek Mult:Multani Mymr:Myanmar Nagm:Nag_Mundari Nand:Nandinagari
Narb:Old_North_Arabian Nbat:Nabataean Newa:Newa Nkoo:Nko Nshu:Nushu Ogam:Ogham Olck:Ol_Chiki Onao:Ol_Onal
Orkh:Old_Turkic Orya:Oriya Osge:Osage Osma:Osmanya Ougr:Old_Uyghur Palm:Palmyrene Pauc:Pau_Cin_Hau
Pcun:Proto_Cuneiform Perm:Old_Permic Phag:Phags_Pa Phli:Inscriptional_Pahlavi Phlp:Psalter_Pahlavi
Phnx:Phoenician Plrd:Miao Prti:Inscriptional_Parthian Rjng:Rejang Rohg:Hanifi_Rohingya Runr:Runic Samr:Samaritan
Sarb:Old_South_Arabian Saur:Saurashtra Seal:Seal Sgnw:SignWriting Shaw:Shavian Shrd:Sharada Sidd:Siddham
Sidt:Sidetic Sind:Khudawadi Sinh:Sinhala Sogd:Sogdian Sogo:Old_Sogdian Sora:Sora_Sompeng Soyo:Soyombo
Sund:Sundanese Sunu:Sunuwar Sylo:Syloti_Nagri Syrc:Syriac Tagb:Tagbanwa Takr:Takri Tale:Tai_Le Talu:New_Tai_Lue
Taml:Tamil Tang:Tangut Tavt:Tai_Viet Tayo:Tai_Yo Telu:Telugu Tfng:Tifinagh Tglg:Tagalog Thaa:Thaana Thai:Thai
Tibt:Tibetan Tirh:Tirhuta Tnsa:Tangsa Todr:Todhri Tols:Tolong_Siki Toto:Toto Tutg:Tulu_Tigalari Ugar:Ugaritic
Vaii:Vai Vith:Vithkuqi Wara:Warang_Citi Wcho:Wancho Xpeo:Old_Persian Xsux:Cuneiform Yezi:Yezidi Yiii:Yi
Zanb:Zanabazar_Square
"""
SCRIPT_NAMES: dict[str, str] = dict(pair.split(":") for pair in _TABLE.split())
"""ISO 15924 code -> Unicode script name (``Latn`` -> ``Latin``)."""
_RTL = """
Adlm Arab Armi Avst Chrs Cprt Elym Hatr Hebr Khar Lydi Mand Mani Mend Narb Nbat Nkoo Orkh Ougr Palm Phli Phlp Phnx
Prti Rohg Samr Sarb Sogd Sogo Syrc Thaa Yezi
"""
RIGHT_TO_LEFT = frozenset(_RTL.split())
"""Scripts written right to left."""
TOP_TO_BOTTOM = frozenset({"Mong", "Phag"})
"""Scripts traditionally written in vertical lines, top to bottom."""


@cache
def _pattern() -> regex.Pattern:
    groups = "|".join(rf"(?P<{code}>\p{{Script={name}}})" for code, name in SCRIPT_NAMES.items())
    return regex.compile(groups)


@cache
def script_of(char: str) -> str | None:
    """The ISO 15924 code of ``char``'s script; ``None`` for characters shared by scripts (digits, punctuation,
    spaces: Unicode's Common and Inherited)."""
    match = _pattern().fullmatch(char)
    return match.lastgroup if match else None


def script_counts(text: str) -> Counter[str]:
    """Characters of ``text`` per script (Common and Inherited characters left out)."""
    out: Counter[str] = Counter()
    for char, n in Counter(text).items():
        code = script_of(char)
        if code is not None:
            out[code] += n
    return out


def dominant_script(text: str) -> str | None:
    """The script most of ``text``'s letters are in; ``None`` when it has none (digits and punctuation only)."""
    counts = script_counts(text)
    return counts.most_common(1)[0][0] if counts else None


def direction(script: str | None) -> str:
    """``rtl``, ``ttb`` or ``ltr``: the direction ``script`` is written in."""
    return "rtl" if script in RIGHT_TO_LEFT else "ttb" if script in TOP_TO_BOTTOM else "ltr"
