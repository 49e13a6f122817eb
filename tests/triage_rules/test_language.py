"""Language detection: foreign messages are named, English ones — however misspelt — are not."""

from __future__ import annotations

import pytest

from triage_rules.language import detect_language, is_non_english

FOREIGN = {
    "pl": "Dzień dobry, w łazience cieknie rura pod umywalką. Czy ktoś może przyjść? Dziękuję",
    "pl-no-diacritics": "Dzien dobry, w lazience cieknie rura pod umywalka. Czy ktos moze przyjsc?",
    "ro": "Bună ziua, am o problemă cu caloriferul din dormitor care nu funcționează de o săptămână.",
    "so": "Waxaan rabaa in la ii soo diro qof hagaajiya tuubada biyaha ee jikada.",
    "ur": "میرے باتھ روم میں پانی لیک ہو رہا ہے، براہ کرم کسی کو بھیجیں",
    "bn": "আমার রান্নাঘরে ছাদ থেকে পানি পড়ছে, দয়া করে কাউকে পাঠান",
    "ar": "يوجد تسرب مياه في المطبخ منذ يومين، أرجو إرسال شخص لإصلاحه",
}
EXPECTED = {"pl-no-diacritics": "pl"}

ENGLISH = [
    "boiler broke pls come asap",
    "wen r u cumin 2 fix da boilr",
    "mould in bathrm agn!!",
    "hi my tap is leaking can someone come",
    "Dear Sir or Madam, I write on behalf of my constituent regarding her transfer application.",
    "THE LIFT IS BROKEN AGAIN",
    "ta x",
    "Hola! The heating in flat 3 has stopped working since Monday, can somebody have a look please",
]


@pytest.mark.parametrize(("label", "text"), FOREIGN.items(), ids=FOREIGN.keys())
def test_foreign_messages_are_named(label: str, text: str) -> None:
    assert detect_language(text) == EXPECTED.get(label, label)
    assert is_non_english(text)


@pytest.mark.parametrize("text", ENGLISH)
def test_english_however_written_is_not_non_english(text: str) -> None:
    assert not is_non_english(text)
    assert detect_language(text) in ("en", None)


@pytest.mark.parametrize("text", ["", "   ", "ok", "😀😀😀", "07911 123123", "?!"])
def test_too_little_text_has_no_language(text: str) -> None:
    assert detect_language(text) is None
    assert not is_non_english(text)


def test_a_mainly_english_message_with_a_foreign_greeting_is_english() -> None:
    text = "Dzień dobry. My kitchen tap has been leaking for three days and the cupboard is soaked, please help."
    assert detect_language(text) == "en"


def test_a_mainly_foreign_message_with_an_english_address_is_foreign() -> None:
    text = ("dzień dobry nazywam się tomasz wróbel mieszkam pod adresem flat 4 kestrel house mill lane "
            "dzwonię bo pod zlewem w kuchni cieknie rura woda kapie cały czas")
    assert detect_language(text) == "pl"


def test_a_very_long_text_is_judged_by_its_start() -> None:
    polish, english = (FOREIGN["pl"] + " ") * 30, "The tap is leaking. " * 50_000
    assert detect_language(polish + english) == "pl"
    assert detect_language(english + polish) == "en"
