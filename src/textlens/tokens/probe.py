"""The built-in probe text: one short sample per kind of text that tokenizers
treat differently. Written for textlens; each category is encoded on its own for
the category table, and all of them together for the full comparison.
"""

from __future__ import annotations

PROBE: dict[str, str] = {
    "english": (
        "The committee postponed its decision until the auditors had finished reviewing "
        "the quarterly accounts, which nobody found surprising."
    ),
    "capitals": "BREAKING NEWS: THE COMMITTEE POSTPONED ITS DECISION UNTIL FURTHER NOTICE.",
    "code": (
        "def moving_average(values, window=3):\n"
        "    if window <= 0:\n"
        '        raise ValueError("window must be positive")\n'
        "    return [sum(values[i:i + window]) / window\n"
        "            for i in range(len(values) - window + 1)]\n"
    ),
    "whitespace": "name\tage\tcity\nAda\t36\tLondon\n\n\n    indented    with     runs   of spaces  \n",
    "numbers": "In 2024, 1,234,567 × 0.75 = 925,925.25; 3.14159 + 2.71828 ≈ 5.85987 and 10^6 = 1000000.",
    "emoji": "Launch day 🚀🎉! Family: 👨‍👩‍👧‍👦, flags: 🇯🇵🇰🇷, skin tone: 👍🏽, hearts ❤️💙.",
    "chinese": "自然语言处理是人工智能的一个重要分支，它研究如何让计算机理解和生成人类语言。",
    "korean": "자연어 처리는 컴퓨터가 인간의 언어를 이해하고 생성하도록 돕는 인공지능의 한 분야입니다.",
    "arabic": "معالجة اللغات الطبيعية فرع من الذكاء الاصطناعي يهتم بفهم اللغة البشرية.",
    "hindi": "प्राकृतिक भाषा प्रसंस्करण कृत्रिम बुद्धिमत्ता की एक शाखा है।",
    "accents": "Crème brûlée, façade, naïve café, São Paulo, Zürich, Łódź, Ångström.",
    "url_json": (
        "GET https://api.example.com/v2/users?id=42&sort=desc → "
        '{"id": 42, "name": "Ada", "tags": ["admin", "beta"], "active": true}'
    ),
}


def probe_text() -> str:
    """All probe categories joined by blank lines, in a fixed order."""
    return "\n\n".join(PROBE.values())
