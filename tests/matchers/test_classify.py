"""Classification, table-driven: which standard a title falls under, and which features fire."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from config import MatchConfig
from matchers.classify import Classifier
from matchers.features import (
    FEATURES,
    Feature,
    keyword_in_description,
    keyword_in_title,
    keyword_misspelt_in_title,
    look_alike_word,
    named_first,
    scope_doubt_word,
    tis_number_shown,
)
from matchers.marks import listing_fields, read_marks
from matchers.normalise import Segmenter, fold

STANDARDS = [
    ("2879-2560", ["พาวเวอร์แบงค์", "พาวเวอร์แบงก์", "แบตสำรอง", "power bank"], ["เคส", "case", "ซอง"], []),
    ("1641-2552", ["air fryer", "หม้อทอดไร้น้ำมัน"], ["liner"], []),
    ("2432-2555", ["ปลั๊กพ่วง", "รางปลั๊ก", "extension cord", "power strip"], ["ที่เก็บสาย"], []),
    ("166-2549", ["ปลั๊ก", "เต้ารับ", "plug"], ["ที่ปิดรูปลั๊ก", "ear plug"], []),
    ("366-2547", ["เตารีด", "iron"], ["iron man", "โต๊ะรีดผ้า"], []),
    ("276-2532", ["ท่อ"], [], []),
    ("369-2557", ["หมวกกันน็อค", "หมวกกันน็อก", "helmet"], ["สติ๊กเกอร์", "sticker"], []),
    (
        "685 เล่ม 1-2562",
        ["ของเล่น", "ตุ๊กตา", "ฟิกเกอร์", "toy"],
        ["สัตว์เลี้ยง", "pet toy", "cat toy"],
        ["15 ปีขึ้นไป", "นักสะสม"],
    ),
    ("1039-2547", ["หม้อหุงข้าว", "rice cooker"], ["หม้อใน", "inner pot", "ของเล่น"], []),
    ("2780-2562", ["หลอดไฟ led", "led bulb"], ["ขั้วหลอด"], ["12v"]),
    ("1955-2551", ["หลอดไฟ", "โคมไฟ"], [], ["12v"]),
]
ZWSP = "\u200b"

# (title, description, expected TIS of the best candidate or None, feature that must fire or None)
CASES = [
    ("พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว", "", "2879-2560", "keyword_in_title"),
    (f"พาว{ZWSP}เวอร์แบงค์ 10000", "", "2879-2560", "keyword_in_title"),  # zero-width inside
    ("POWER BANK 10000 mAh", "", "2879-2560", "keyword_in_title"),  # case folded
    ("Powerbank mini", "", "2879-2560", "keyword_in_title"),  # written without the space
    ("พาว เวอร์ แบงค์ ถูกมาก", "", "2879-2560", "keyword_misspelt_in_title"),  # written apart
    ("พาวเวอร์แบง 20000", "", "2879-2560", "keyword_misspelt_in_title"),  # misspelt
    ("powerbnak 20000mah", "", "2879-2560", "keyword_misspelt_in_title"),  # transposed letters
    ("หมวกกันน็อต ครึ่งใบ", "", "369-2557", "keyword_misspelt_in_title"),
    ("ปลั๊กพ่วง 4 ช่อง 3 เมตร", "", "2432-2555", "keyword_in_title"),  # not the plug standard
    ("หัวปลั๊ก 3 ขา ปลั๊ก ทองเหลือง", "", "166-2549", "keyword_in_title"),
    ("ของใช้ในบ้าน ราคาถูก", "สินค้าคุณภาพ ปลั๊กพ่วง 3 ตา ยาว 5 เมตร", "2432-2555", "keyword_in_description"),
    ("เตารีดไอน้ำ พกพา", "", "366-2547", "keyword_in_title"),
    ("ironing board cover", "", None, None),  # "iron" inside "ironing" is no hit
    ("irons golf set", "", None, None),  # short keywords are not fuzzy-matched
    ("สินค้า มอก. 2879-2560 ของแท้", "", "2879-2560", "tis_number_shown"),  # number only
    ("ที่ปิดรูปลั๊ก กันเด็ก 12 ชิ้น", "", None, None),  # ปลั๊ก inside the look-alike's own name
    ("ท่องเที่ยว ทะเล", "", None, None),  # ท่อ (a keyword here) does not head ท่องเที่ยว
    ("ตุ๊กตาสำหรับสัตว์เลี้ยง บีบมีเสียง", "", "685 เล่ม 1-2562", "look_alike_word"),  # "for" + pet
    ("ฟิกเกอร์สะสม สำหรับอายุ 15 ปีขึ้นไป", "", "685 เล่ม 1-2562", "scope_doubt_word"),
    ("หลอดไฟ LED 12V ขั้ว E27", "", "2780-2562", "scope_doubt_word"),  # more precise name wins a tie
    ("รองเท้าผ้าใบ ผู้ชาย", "", None, None),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(STANDARDS, MatchConfig(), brands=["Eloop", "ช้างไทย"])


def _read(classifier: Classifier, title: str, description: str = ""):  # type: ignore[no-untyped-def]
    marks = read_marks(listing_fields(title, description, {}))
    return classifier.read(title, description, marks)


@pytest.mark.parametrize(("title", "description", "tis", "feature"), CASES)
def test_best_candidate(
    classifier: Classifier, title: str, description: str, tis: str | None, feature: str | None
) -> None:
    candidates = classifier.candidates(_read(classifier, title, description))
    if tis is None:
        assert candidates == []
        return
    best = candidates[0]
    assert best.entry.tis_number == tis, candidates
    assert feature in [fired["feature"] for fired in best.fired], best.fired


# (title, sum of the features): keyword 0.8, named first 0.25, TIS shown 0.15, look-alike -1, doubt -0.3
TOTALS = [
    ("พาวเวอร์แบงค์ 20000mAh", 1.05),
    ("ของใช้ มอก. 2879-2560", 0.15),  # the TIS number alone
    ("พาวเวอร์แบงค์ มอก.2879-2560", 1.2),
    ("เคสพาวเวอร์แบงค์ ซิลิโคน", 0.05),  # a case: the exclusion comes first
    ("power bank case silicone", 0.05),  # English names the item last
    ("Air fryer silicone liner 2 pcs", 0.05),  # the last English noun names the item
    ("power bank with case", 1.05),  # a power bank that comes with a case
    ("พาวเวอร์แบงค์ พร้อมเคสในตัว", 1.05),
    ("หม้อหุงข้าว 1.8 ลิตร หม้อในเคลือบเทฟลอน", 1.05),  # the inner pot is a feature, not the item
    ("หม้อในหม้อหุงข้าว อะไหล่", 0.05),  # the inner pot is the item
    ("หม้อหุงข้าวของเล่น ชุดครัว", 0.8),  # joined to the product word: a toy (685), not a rice cooker
    ("หม้อหุงค้าว 1.0 ลิตร หม้อในเคลือบ Rice Cooker", 1.05),  # a misspelt Thai name still comes first
    ("rice cooker inner pot 1.8L", 0.05),
    ("ตุ๊กตาหมี Cat Toy", 0.05),  # English names the item through the exclusion alone
    # the head of the title's phrase is the item; a product word after a fitment word is what it fits
    ("สายชาร์จสำหรับพาวเวอร์แบงค์ 30 ซม.", 0.05),  # Thai: the cable, for a power bank
    ("ที่หนีบ ใช้กับ พาวเวอร์แบงค์ ทุกขนาด", 0.05),
    ("กระจก ตรงรุ่น หมวกกันน็อค Index 811", 0.05),
    ("Replacement visor for Bell Qualifier helmet", 0.05),  # English: the visor, for a helmet
    ("Clip fits Anker power bank", 0.05),
    ("ฝาครอบปลั๊กพ่วง กันน้ำ", 0.05),  # a Thai noun joined before the product word heads it
    ("power bank compatible travel pouch", 0.05),  # English: the product word qualifies the pouch
    ("power bank door cover for cars", 0.05),  # … and the head phrase ends in another noun
    ("พาวเวอร์แบงค์ สำหรับ iPhone 5000mAh", 1.05),  # named before the fitment word: the product
    ("Power bank 10000mAh for iPhone with cable", 1.05),
    ("Power bank for laptop", 1.05),
    ("ปลั๊กพ่วง พร้อมสายยาว 5 ม.", 1.05),  # a product with an accessory word stays the product
    ("หมวกกันน็อค พร้อมชิลด์ สำหรับ ผู้ใหญ่", 1.05),
    ("helmet with visor and liner", 1.05),
    ("เคสใส + พาวเวอร์แบงค์ เซ็ตคู่", 1.05),  # a bundle: the power bank is sold too
    ("ชุดของเล่น ตัวต่อ", 1.05),  # a set word joined before the product word names no other item
    ("Crayons toy 16 colors for kids", 1.05),  # a count is not a noun the product word qualifies
    ("ฟิกเกอร์ นักสะสม", 0.75),  # a scope doubt: officer review whatever the score
]


@pytest.mark.parametrize(("title", "total"), TOTALS)
def test_totals(classifier: Classifier, title: str, total: float) -> None:
    candidates = classifier.candidates(_read(classifier, title))
    assert candidates[0].total == pytest.approx(total), candidates[0].fired
    assert candidates[0].score == pytest.approx(max(0.0, min(1.0, total)))


def test_the_product_named_first_beats_a_component_number() -> None:
    """รางปลั๊ก … สายไฟ มอก.11: the extension cord, not the cable its number belongs to."""
    classifier = Classifier([*STANDARDS, ("11 เล่ม 3-2553", ["สายไฟ"], [], [])], MatchConfig())
    best, runner_up = classifier.candidates(_read(classifier, "รางปลั๊ก 5 ช่อง สายไฟ มอก.11-2553"))[:2]
    assert (best.entry.tis_number, runner_up.entry.tis_number) == ("2432-2555", "11 เล่ม 3-2553")


def test_a_brand_is_not_read_as_a_product_word(classifier: Classifier) -> None:
    marks = read_marks(listing_fields("Nova Plug รางปลั๊ก 4 ช่อง", "", {}))
    text = classifier.read("Nova Plug รางปลั๊ก 4 ช่อง", "", marks, brand="Nova Plug")
    assert "plug" not in text.title_words
    assert classifier.candidates(text)[0].entry.tis_number == "2432-2555"


def test_weights_come_from_settings() -> None:
    config = MatchConfig(keyword_weight=0.5, description_factor=0.5, first_word_weight=0.1)
    classifier = Classifier(STANDARDS, config)
    [title] = classifier.candidates(_read(classifier, "ปลั๊กพ่วง 3 ตา"))[:1]
    [body] = classifier.candidates(_read(classifier, "ของใช้", "ปลั๊กพ่วง 3 ตา"))[:1]
    assert (title.score, body.score) == (0.6, 0.25)


def test_blocking_scores_only_standards_named_in_the_listing(classifier: Classifier) -> None:
    candidates = classifier.candidates(_read(classifier, "พาวเวอร์แบงค์ 20000mAh"))
    assert [c.entry.tis_number for c in candidates] == ["2879-2560"]


def test_a_hostile_title_is_read_within_bounds(classifier: Classifier) -> None:
    title = "พาวเวอร์แบงค์ " + "ก" * 100_000 + " ปลั๊กพ่วง"
    text = _read(classifier, title)
    assert "พาวเวอร์แบงค์" in text.title_words
    assert "ปลั๊กพ่วง" not in text.title_words  # beyond the characters read
    assert len(text.title) <= 1_000


def test_long_title_words_are_not_searched_nor_kept(classifier: Classifier) -> None:
    """A title word too long to be near any keyword is not searched for near spellings, and long
    pieces are not kept in the caches (a hostile page's long words would fill them)."""
    caches = [classifier.speller.cache, classifier.spotter.windows, classifier.spotter.pieces]
    before = [len(cache) for cache in caches]
    text = _read(classifier, " ".join(f"w{n}" + "q" * 300 for n in range(3)))
    assert text.near_words == {}
    assert [len(cache) for cache in caches] == before


def test_reasons_name_the_word_as_the_register_writes_it(classifier: Classifier) -> None:
    [best, *_] = classifier.candidates(_read(classifier, "POWER BANK"))
    assert "“power bank”" in best.fired[0]["detail"]


def test_every_feature_is_listed_once() -> None:
    names = [feature.__name__ for feature in FEATURES]
    assert len(names) == len(set(names))


def test_near_spelling_blocking_loses_no_match(classifier: Classifier) -> None:
    """The blocked search for near spellings finds what a search of every keyword finds."""
    from rapidfuzz import fuzz, process

    rng = random.Random(2568)
    spellings = classifier.speller.spellings
    words = []
    for spelling in spellings:
        for _ in range(20):
            i = rng.randrange(len(spelling))
            edit = rng.randrange(3)  # drop, add or change one character
            kept = spelling[:i] if edit == 0 else spelling[: i + 1] if edit == 1 else spelling[:i] + "x"
            words.append(kept + (rng.choice(spelling) if edit == 1 else "") + spelling[i + 1 :])
    cutoff = classifier.config.fuzzy_min_ratio
    found = 0
    for word in words:
        full = process.extractOne(word, spellings, scorer=fuzz.ratio, score_cutoff=cutoff)
        blocked = process.extractOne(
            word, classifier.speller.candidates(word), scorer=fuzz.ratio, score_cutoff=cutoff
        )
        assert (full and full[1]) == (blocked and blocked[1]), word
        found += full is not None
    assert found > len(words) / 4, "the mutations include near spellings"


# (feature, title, description, standard, fires) — each feature on its own, firing and not
FEATURE_CASES = [
    (keyword_in_title, "พาวเวอร์แบงค์ 10000", "", "2879-2560", True),
    (keyword_in_title, "ของใช้ในบ้าน", "พาวเวอร์แบงค์", "2879-2560", False),
    (keyword_in_description, "ของใช้ในบ้าน", "พาวเวอร์แบงค์ 10000", "2879-2560", True),
    (keyword_in_description, "พาวเวอร์แบงค์", "พาวเวอร์แบงค์", "2879-2560", False),
    (keyword_misspelt_in_title, "พาวเวอร์แบง 10000", "", "2879-2560", True),
    (keyword_misspelt_in_title, "พาวเวอร์แบงค์ 10000", "", "2879-2560", False),
    (named_first, "ปลั๊กพ่วง และ หัวปลั๊ก", "", "2432-2555", True),
    (named_first, "ปลั๊กพ่วง และ หัวปลั๊ก", "", "166-2549", False),
    (tis_number_shown, "ของใช้ มอก. 2879", "", "2879-2560", True),
    (tis_number_shown, "ของใช้ มอก. 2432-2555", "", "2879-2560", False),
    (look_alike_word, "เคส พาวเวอร์แบงค์", "", "2879-2560", True),
    (look_alike_word, "พาวเวอร์แบงค์ พร้อมเคส", "", "2879-2560", False),
    (look_alike_word, "ซองผ้า สำหรับ พาวเวอร์แบงค์", "", "2879-2560", True),
    (look_alike_word, "pouch for power bank", "", "2879-2560", True),
    (look_alike_word, "พาวเวอร์แบงค์ สำหรับ iPhone", "", "2879-2560", False),
    (look_alike_word, "power bank for iPhone", "", "2879-2560", False),
    (look_alike_word, "Power bank slim for iPhone 15", "", "2879-2560", False),  # an adjective, no item
    (look_alike_word, "ถาดรองน้ำ หม้อหุงข้าว อะไหล่", "", "1039-2547", True),  # item named first (class noun)
    (look_alike_word, "เคสซิลิโคน พาวเวอร์แบงค์ 10000", "", "2879-2560", True),  # an item noun of the register
    (look_alike_word, "ชาร์ป หม้อหุงข้าว 1.8 ลิตร", "", "1039-2547", False),  # a brand written in Thai
    (look_alike_word, "มินิ พาวเวอร์แบงค์ 5000mAh", "", "2879-2560", False),  # a seller's word names no item
    (look_alike_word, "ผงล้างตะกรัน หม้อหุงข้าว 10 ซอง", "", "1039-2547", True),
    (look_alike_word, "พร้อมส่ง หม้อหุงข้าว 1.8 ลิตร", "", "1039-2547", False),  # a seller's tag first
    (look_alike_word, "ช้างไทย หม้อหุงข้าว 1.8 ลิตร", "", "1039-2547", False),  # a known brand first
    (look_alike_word, "หลอดไฟ LED โคมไฟ ตั้งโต๊ะ", "", "2780-2562", False),  # the first piece is a product
    (scope_doubt_word, "ฟิกเกอร์", "สำหรับนักสะสม", "685 เล่ม 1-2562", True),
    (scope_doubt_word, "ฟิกเกอร์ ตัวใหญ่", "", "685 เล่ม 1-2562", False),
]


@pytest.mark.parametrize(("feature", "title", "description", "tis", "fires"), FEATURE_CASES)
def test_each_feature(
    classifier: Classifier, feature: Feature, title: str, description: str, tis: str, fires: bool
) -> None:
    entry = classifier.entry(tis)
    assert entry is not None
    result = feature(_read(classifier, title, description), entry, classifier.config)
    assert (result is not None) == fires, result
    if result is not None:
        assert result.detail, "a feature that fires says why"


# (title, standard, words the reason must quote): why the listing is an accessory, in its own words
HEAD_REASONS = [
    ("สายชาร์จสำหรับพาวเวอร์แบงค์", "2879-2560", ("“พาวเวอร์แบงค์”", "what the item fits", "สำหรับ")),
    ("ฝาครอบปลั๊กพ่วง กันน้ำ", "2432-2555", ("“ฝาครอบปลั๊กพ่วง”", "qualifies the item named before it")),
    ("power bank compatible pouch", "2879-2560", ("“power bank compatible”", "named after it")),
    ("ผงล้างตะกรัน หม้อหุงข้าว", "1039-2547", ("“ผงล้างตะกรัน หม้อหุงข้าว”", "names first")),
]


@pytest.mark.parametrize(("title", "tis", "quoted"), HEAD_REASONS)
def test_the_reason_says_why_the_item_is_an_accessory(
    classifier: Classifier, title: str, tis: str, quoted: tuple[str, ...]
) -> None:
    entry = classifier.entry(tis)
    assert entry is not None
    result = look_alike_word(_read(classifier, title), entry, classifier.config)
    assert result is not None
    assert result.score == -classifier.config.exclusion_penalty
    assert all(words in result.detail for words in quoted), result.detail


def test_a_product_named_after_a_fitment_word_loses_only_that_standard(classifier: Classifier) -> None:
    """``ปลั๊กพ่วง สำหรับ ตู้เย็น``-like titles: the second product is what the first is for."""
    candidates = classifier.candidates(_read(classifier, "ปลั๊กพ่วง สำหรับ หม้อหุงข้าว 16A"))
    assert candidates[0].entry.tis_number == "2432-2555"
    rice = next(c for c in candidates if c.entry.tis_number == "1039-2547")
    assert "look_alike_word" in [fired["feature"] for fired in rice.fired]


def test_the_item_nouns_are_the_registers_accessory_words_not_its_products() -> None:
    """English heads of exclusion words name items; heads of product words and adjectives do not."""
    nouns = Classifier(STANDARDS, MatchConfig()).item_nouns
    assert {"case", "sticker", "liner", "pot"} <= nouns  # inner pot: a part, not a product here
    assert nouns.isdisjoint({"bank", "cooker", "slim", "mini", "portable"})


def test_a_product_word_written_apart_is_no_lead_item() -> None:
    """``หมวก กันน็อค``-like: the first piece and the product word make a product word of the register."""
    classifier = Classifier([("369-2557", ["หมวกกันน็อค", "กันน็อค"], [], [])], MatchConfig())
    text = classifier.read("หมวก กันน็อค เต็มใบ", "", [])
    assert text.lead is None
    assert classifier.read("ที่แขวน กันน็อค เต็มใบ", "", []).lead == "ที่แขวน"
    assert classifier.read("ชิลด์ กันน็อค เต็มใบ", "", []).lead is None  # names no item the register knows


def test_every_feature_has_table_cases() -> None:
    assert {case[0] for case in FEATURE_CASES} == set(FEATURES)


def test_segmentation_does_not_cross_a_space() -> None:
    """The classifier segments text piece by piece between spaces (pieces repeat and are cached):
    that must give the words segmenting the whole text gives, on every text of the evaluation set."""
    segmenter = Segmenter(["พาวเวอร์แบงค์", "ปลั๊กพ่วง", "หมวกกันน็อค", "รางปลั๊ก"])
    lines = (Path(__file__).parent / "eval" / "listings.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [
        fold(field)
        for line in lines
        for field in (json.loads(line)["title"], json.loads(line)["description"])
    ]
    assert len(texts) >= 1000
    for text in texts:
        pieces = [token for piece in text.split(" ") for token in segmenter.tokens(piece)]
        assert segmenter.tokens(text) == pieces, text
