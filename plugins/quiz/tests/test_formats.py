"""GIFT and Moodle XML: every feature, every refusal with its line, and round trips on
the shipped banks, a generated bank of 1,200 questions and a Moodle 4.x export."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from plugins.quiz import formats
from plugins.quiz.formats import common, gift, moodle_xml
from plugins.quiz.questions import QTYPES, Answer, FormatError, Pair, Question

ROOT = Path(__file__).resolve().parents[3]
BANKS = ROOT / "course_templates/templates/files/gp-informatika-smp/banks"
SAMPLE = Path(__file__).parent / "data" / "moodle-4-export.xml"
D = Decimal


def Q(qtype: str = "multichoice", **fields) -> Question:
    """A question with the defaults a GIFT import gives."""
    return Question(**{"qtype": qtype, "name": "Q", "text": "T", "text_format": "moodle", **fields})


def A(text: str, fraction: str = "1", feedback: str = "", tolerance: str | None = None) -> Answer:
    return Answer(text, D(fraction), feedback, None if tolerance is None else D(tolerance))


def TF(correct: bool, right: str = "", wrong: str = "") -> list[Answer]:
    """True/false answers as GIFT reads them: each answer's feedback is shown to who picks it."""
    if correct:
        return [A("true", "1", right), A("false", "0", wrong)]
    return [A("true", "0", wrong), A("false", "1", right)]


def unlined(questions: list[Question]) -> list[Question]:
    return [replace(q, line=0) for q in questions]


def problems(parse, data) -> list[tuple[int, str]]:
    with pytest.raises(FormatError) as exc:
        parse(data)
    return exc.value.problems


def one(src: str) -> Question:
    (q,) = gift.parse(src)
    return q


# -- GIFT: reading --------------------------------------------------------------------


def test_gift_multichoice_with_answer_and_general_feedback():
    src = (
        "// Tes Sumatif Sesi 1\n"
        "::S1-Q01::Memecah persoalan besar disebut ... {\n"
        "=dekomposisi#Tepat.\n"
        "~abstraksi#Bukan: itu menyaring detail.\n"
        "~pengenalan pola\n"
        "####Dekomposisi adalah fondasi pertama.\n"
        "}\n"
    )
    assert gift.parse(src) == [
        Q(
            name="S1-Q01",
            text="Memecah persoalan besar disebut ...",
            answers=[
                A("dekomposisi", "1", "Tepat."),
                A("abstraksi", "0", "Bukan: itu menyaring detail."),
                A("pengenalan pola", "0"),
            ],
            general_feedback="Dekomposisi adalah fondasi pertama.",
            line=2,
        )
    ]


def test_gift_categories_apply_to_the_questions_that_follow():
    src = (
        "::A::a {T}\n\n"
        "$CATEGORY: informatika-smp/sesi-1\n\n"
        "::B::b {T}\n\n"
        "// Moodle's own exports carry the context and top\n"
        "$CATEGORY: $course$/top/Default for PGP/Biner\n\n"
        "::C::c {T}\n\n"
        "$CATEGORY: $module$/top\n\n"
        "::D::d {T}\n"
    )
    assert [(q.name, q.category, q.line) for q in gift.parse(src)] == [
        ("A", "", 1),
        ("B", "informatika-smp/sesi-1", 5),
        ("C", "Default for PGP/Biner", 10),
        ("D", "", 14),
    ]


def test_gift_comments_are_skipped_even_inside_a_question():
    src = "// satu\n// dua\n::Q::Teks\n// di tengah\n{\n=a\n// jawaban lain\n~b\n}\n"
    q = one(src)
    assert (q.line, q.text, [a.text for a in q.answers]) == (3, "Teks", ["a", "b"])


@pytest.mark.parametrize(
    "marker, fmt, text",
    [
        ("", "moodle", "Teks <b>tebal</b>"),
        ("[html]", "html", "Teks <b>tebal</b>"),
        ("[plain]", "plain", "Teks <b>tebal</b>"),
        ("[markdown]", "markdown", "Teks <b>tebal</b>"),
        ("[moodle]", "moodle", "Teks <b>tebal</b>"),
        ("[latex]", "moodle", "[latex]Teks <b>tebal</b>"),  # unknown: kept, as Moodle does
    ],
)
def test_gift_text_format_markers(marker, fmt, text):
    q = one(f"::Q::{marker}Teks <b>tebal</b> {{=[html]<i>a</i>#[html]<b>ya</b> ~b}}")
    assert (q.text_format, q.text) == (fmt, text)
    assert q.answers[0] == A("<i>a</i>", "1", "<b>ya</b>")  # answers' own markers read off


def test_gift_escapes():
    q = one(
        r"::Soal\: 1 \{a\}::Kurung \{ \} sama \= tilde \~ pagar \# titik dua \: "
        r"garis miring \\ baris\nbaru {=a\=b\#c#umpan \~ balik ~x\:y}"
    )
    assert q.name == "Soal: 1 {a}"
    assert q.text == "Kurung { } sama = tilde ~ pagar # titik dua : garis miring \\ baris\nbaru"
    assert q.answers == [A("a=b#c", "1", "umpan ~ balik"), A("x:y", "0")]


def test_gift_an_unknown_escape_keeps_its_backslash():
    assert one(r"::Q::C:\Users\guru {T}").text == r"C:\Users\guru"


def test_gift_percentage_weights():
    q = one("::Q::x {=a ~%50%b ~%-25%c ~%33.33333%d ~e}")
    assert [a.fraction for a in q.answers] == [D(1), D("0.5"), D("-0.25"), D("0.3333333"), D(0)]


def test_gift_multiresponse_has_no_equals_sign():
    q = one("::Q::Pilih semua {\n~%50%satu\n~%50%dua#ya\n~%-100%tiga\n}")
    assert q.qtype == "multiresponse"
    assert q.answers == [A("satu", "0.5"), A("dua", "0.5", "ya"), A("tiga", "-1")]


def test_gift_three_thirds_make_a_whole():
    q = one("::Q::x {~%33.33333%a ~%33.33333%b ~%33.33333%c ~d}")
    assert q.qtype == "multiresponse"


@pytest.mark.parametrize(
    "answer, answers",
    [
        ("{T}", TF(True)),
        ("{TRUE}", TF(True)),
        ("{F}", TF(False)),
        ("{FALSE}", TF(False)),
        ("{T#Salah, coba lagi.}", TF(True, wrong="Salah, coba lagi.")),
        ("{T#Salah.#Benar!}", TF(True, right="Benar!", wrong="Salah.")),
        ("{FALSE##Benar!}", TF(False, right="Benar!")),
        ("{ F # Salah. # Benar! }", TF(False, right="Benar!", wrong="Salah.")),
    ],
)
def test_gift_truefalse(answer, answers):
    q = one(f"::Q::Pernyataan. {answer}")
    assert (q.qtype, q.answers, q.text) == ("truefalse", answers, "Pernyataan.")


def test_gift_truefalse_general_feedback():
    q = one("::Q::x {TRUE#salah#benar####umum}")
    assert (q.answers, q.general_feedback) == (TF(True, "benar", "salah"), "umum")


def test_gift_lowercase_true_is_a_short_answer_as_in_moodle():
    assert one("::Q::x {true}").answers == [A("true")]


def test_gift_shortanswer():
    q = one("::Q::Ibu kota? {=Jakarta =DKI Jakarta#Lengkap =%50%Batavia#Nama lama}")
    assert q.qtype == "shortanswer"
    assert q.answers == [
        A("Jakarta"),
        A("DKI Jakarta", "1", "Lengkap"),
        A("Batavia", "0.5", "Nama lama"),
    ]
    assert not q.case_sensitive


@pytest.mark.parametrize(
    "answer, answers",
    [
        ("{#3.14:0.01}", [A("3.14", tolerance="0.01")]),
        ("{#29:0}", [A("29", tolerance="0")]),
        ("{#29}", [A("29")]),
        ("{#-2.5}", [A("-2.5")]),
        ("{#1..5}", [A("3", tolerance="2")]),
        ("{#1.5..2}", [A("1.75", tolerance="0.25")]),
        ("{# =2:0 =%50%3:0}", [A("2", tolerance="0"), A("3", "0.5", tolerance="0")]),
        (
            "{#\n=1822:0 # Tepat!\n=%50%1822:2 # Hampir.\n~#Bukan.\n}",
            [
                A("1822", "1", "Tepat!", "0"),
                A("1822", "0.5", "Hampir.", "2"),
                A("*", "0", "Bukan."),
            ],
        ),
    ],
)
def test_gift_numerical(answer, answers):
    q = one(f"::Q::Berapa? {answer}")
    assert (q.qtype, q.answers) == ("numerical", answers)


def test_gift_matching_with_a_distractor():
    q = one(
        "::Q::Pasangkan. {\n=Router -> meneruskan paket\n=Switch->jaringan lokal\n= -> pengecoh\n}"
    )
    assert q.qtype == "matching"
    assert q.pairs == [
        Pair("Router", "meneruskan paket"),
        Pair("Switch", "jaringan lokal"),
        Pair("", "pengecoh"),
    ]
    assert q.answers == []


@pytest.mark.parametrize(
    "src, text",
    [
        (
            "Grant is {~buried =entombed ~living} in Grant's tomb.",
            "Grant is _____ in Grant's tomb.",
        ),
        ("{=Jakarta ~Bandung} adalah ibu kota.", "_____ adalah ibu kota."),
        ("::Q::Dua tambah {=dua =2} sama dengan empat.", "Dua tambah _____ sama dengan empat."),
    ],
)
def test_gift_missing_word(src, text):
    assert one(src).text == text


def test_gift_questions_over_several_lines_windows_endings_and_bom():
    src = (
        "\ufeff$CATEGORY: a\r\n\r\n"
        "::Q1::Baris satu\r\nbaris dua\r\n{\r\n=ya\r\n~tidak\r\n}\r\n\r\n\r\n"
        "::Q2::x {T}\r\n"
    )
    one_, two = gift.parse(src)
    assert (one_.text, one_.category, one_.line, two.line) == ("Baris satu\nbaris dua", "a", 3, 11)
    assert gift.parse(src.encode()) == gift.parse(src)  # bytes (with the BOM) too


def test_gift_old_mac_line_endings():
    assert [q.line for q in gift.parse("::A::a {T}\r\r::B::b {F}\r")] == [1, 3]


def test_gift_names_from_the_text_when_missing():
    assert one("Siapa penemu {=Ki Hajar}?").name == "Siapa penemu _____ ?"
    long = "[html]<p>Sebuah " + "robot berjalan maju dua petak lalu belok kanan " * 3 + "{T}"
    name = one(long).name
    assert name == ("Sebuah robot berjalan maju dua petak lalu belok kanan robot berjalan maju...")
    assert len(name) <= 80


def test_gift_empty_file_has_no_questions():
    assert gift.parse("") == []
    assert gift.parse("// hanya komentar\n\n$CATEGORY: a\n") == []


def test_gift_shipped_style_spreadsheet_formula():
    q = one(r"::Q::Sel D2 berisi \=IF(C2>\=75;1;0). Rumus di C3? {=\=B3*$E$1 ~\=B2*$E$2}")
    assert q.text == "Sel D2 berisi =IF(C2>=75;1;0). Rumus di C3?"
    assert q.answers == [A("=B3*$E$1"), A("=B2*$E$2", "0")]


# -- GIFT: refusing, with the line ----------------------------------------------------


@pytest.mark.parametrize(
    "src, expected",
    [
        (
            "// c\n\n::E::Ceritakan pengalaman Anda. {}\n",
            [(3, "essay questions are not supported")],
        ),
        ("::E::Ceritakan. {####Umpan balik}", [(1, "essay questions are not supported")]),
        (
            "::A::a {T}\n\n::D::Hanya teks tanpa jawaban.\n",
            [(3, "description items (text without answers) are not supported")],
        ),
        ("::Q::x\n{\n=a\n~b\n", [(2, "no closing brace")]),
        (
            "::Q::x {\n=a\n\n~b\n}\n",
            [(1, "no closing brace"), (5, "closing brace without an opening brace")],
        ),
        ("::Q::a } b {=x}", [(1, "closing brace without an opening brace")]),
        (
            "::Q::x {\n=a\n~{b}\n}",
            [(3, "an answer block cannot contain {; write \\{ for a brace in a text")],
        ),
        ("::Q1::x {T}\n::Q2::y {F}\n", [(2, "a blank line must separate questions")]),
        ("::Q::a {T} b {F}", [(1, "a question can have only one answer block {...}")]),
        ("::Q1 x {T}", [(1, "the question name is not closed with ::")]),
        ("$CATEGORY: a\n::Q::x {T}", [(2, "a blank line must follow the $CATEGORY: line")]),
        ("::Q:: {T}", [(1, "the question has no text")]),
        (
            "// c\n\n\n\n\n\n::MC::x {\n~a\n~b\n}",
            [(7, "a multiple-choice question needs a correct answer (mark it with =)")],
        ),
        ("::MC::x {~%100%a}", [(1, "a multiple-response question needs at least two answers")]),
        (
            "::MR::x {~%50%a ~%40%b ~c}",
            [
                (
                    1,
                    "the correct answers of a multiple-response question must add up to 100%"
                    " (they add up to 90%)",
                )
            ],
        ),
        (
            "::MC::x {\n=%50%a\n~b\n=c\n}",
            [(2, "= marks the correct answer; write ~%50%answer for partial credit")],
        ),
        (
            "::MC::x {\n=a\n~%150%b\n}",
            [(3, "a grade of 150% is out of range (-100% to 100%)")],
        ),
        ("::MC::x {\n=a\n~\n}", [(3, "an answer is empty")]),
        (
            "::M::x {\n=a -> 1\n=b 2\n=c -> 3\n}",
            [(3, "a matching pair needs -> between the sub-question and its answer")],
        ),
        ("::M::x {=a -> 1 = -> 2}", [(1, "a matching question needs at least two sub-questions")]),
        ("::M::x {\n=a -> 1\n=b ->\n=c -> 3\n}", [(3, "a matching pair has no answer")]),
        ("::N::x {#\n=3\n=%50%abc\n}", [(3, '"abc" is not a number')]),
        ("::N::x {#3,14}", [(1, '"3,14" is not a number')]),
        ("::N::x {#3:x}", [(1, 'the tolerance "x" is not a number')]),
        ("::N::x {#3:-1}", [(1, "a tolerance cannot be negative")]),
        ("::N::x {#5..1}", [(1, 'the range "5..1" ends below its start')]),
        ("::N::x {#a..5}", [(1, '"a..5" is not a range of numbers')]),
        ("::N::x {#=%50%3}", [(1, "a numerical question needs an answer worth 100%")]),
        ("::N::x {#}", [(1, "a numerical question needs an answer")]),
        ("::S::x {=%50%a}", [(1, "a short-answer question needs an answer worth 100%")]),
    ],
)
def test_gift_problems(src, expected):
    assert problems(gift.parse, src) == expected


def test_gift_every_problem_of_a_file_is_reported_at_once():
    src = (
        "$CATEGORY: informatika\n"  # 1
        "\n"
        "::OK1::Baik. {T}\n"  # 3
        "\n"
        "::Esai::Jelaskan. {}\n"  # 5
        "\n"
        "::MC::Pilih. {\n"  # 7
        "~a\n"
        "~b\n"
        "}\n"
        "\n"
        "::OK2::Baik juga. {#1..5}\n"  # 12
        "\n"
        "::Buka::Kurung terbuka {\n"  # 14
        "=a\n"
        "\n"
        "::Keterangan::Hanya teks.\n"  # 17
        "\n"
        "::N::Angka {#tiga}\n"  # 19
    )
    with pytest.raises(FormatError) as exc:
        gift.parse(src)
    assert str(exc.value) == (
        "line 5: essay questions are not supported; "
        "line 7: a multiple-choice question needs a correct answer (mark it with =); "
        "line 14: no closing brace; "
        "line 17: description items (text without answers) are not supported; "
        'line 19: "tiga" is not a number'
    )


def test_gift_file_not_in_utf8():
    data = b"::A::a {T}\n\n::B::" + "Kalimat \xe9".encode("latin-1") + b" {T}\n"
    assert problems(gift.parse, data) == [(3, "the file is not UTF-8 text")]


# -- GIFT: writing --------------------------------------------------------------------


def test_gift_dump_output():
    qs = [
        Q(
            name="S1: Q01",
            text="<p>Apa {ini}?</p>",
            text_format="html",
            category="informatika/sesi-1",
            answers=[A("a = b", "1", "ya #1"), A("c ~ d", "0"), A("e", "-0.25")],
            general_feedback="Lihat modul.",
        ),
        Q("truefalse", name="T", text="Benar?", answers=TF(False, right="Ya.")),
        Q("numerical", name="N", text="Pi?", answers=[A("3.14", tolerance="0.01")]),
        Q(
            "numerical",
            name="N2",
            text="Dua?",
            answers=[A("2", "1", "", "0"), A("*", "0", "Bukan")],
        ),
        Q(
            "matching",
            name="M",
            text="Pasangkan",
            category="",
            pairs=[Pair("a", "1"), Pair("b", "2"), Pair("", "x")],
        ),
    ]
    assert gift.dump(qs) == (
        "$CATEGORY: informatika/sesi-1\n"
        "\n"
        "::S1\\: Q01::[html]<p>Apa \\{ini\\}?</p> {\n"
        "\t=a \\= b#ya \\#1\n"
        "\t~c \\~ d\n"
        "\t~%-25%e\n"
        "\t####Lihat modul.\n"
        "}\n"
        "\n"
        "$CATEGORY: \n"
        "\n"
        "::T::Benar? {FALSE##Ya.}\n"
        "\n"
        "::N::Pi? {#3.14:0.01}\n"
        "\n"
        "::N2::Dua? {#\n"
        "\t=2:0\n"
        "\t~#Bukan\n"
        "}\n"
        "\n"
        "::M::Pasangkan {\n"
        "\t=a -> 1\n"
        "\t=b -> 2\n"
        "\t=-> x\n"
        "}\n"
    )
    assert unlined(gift.parse(gift.dump(qs))) == qs


def test_gift_dump_protects_texts_that_look_like_markers_or_weights():
    qs = [
        Q(text="[html] bukan penanda", answers=[A("%50% diskon"), A("[plain]", "0", "[x]")]),
        Q("multiresponse", text="x", answers=[A("%a", "0.5"), A("[b]", "0.5"), A("%c", "0")]),
        Q("shortanswer", text="x", answers=[A("%d"), A("[e]", "0.5")]),
        Q("matching", text="x", pairs=[Pair("[html]a", "[b]"), Pair("%c", "%d")]),
        Q("truefalse", text="x", answers=TF(True, "[r]", "%w"), general_feedback="[g]"),
    ]
    assert unlined(gift.parse(gift.dump(qs))) == qs


def test_gift_dump_two_correct_options_stay_multiple_choice():
    qs = [Q(text="x", answers=[A("a"), A("b"), A("c", "0")]), Q(text="y", answers=[A("a"), A("b")])]
    assert unlined(gift.parse(gift.dump(qs))) == qs


def test_gift_dump_marks_case_and_shuffle_are_not_representable():
    q = Q("shortanswer", default_mark=D(3), case_sensitive=True, shuffle=False, answers=[A("a")])
    assert unlined(gift.parse(gift.dump([q]))) == [
        replace(q, default_mark=D(1), case_sensitive=False, shuffle=True)
    ]


@pytest.mark.parametrize(
    "q",
    [
        Q("shortanswer", answers=[A("a -> b")]),
        Q("matching", pairs=[Pair("a -> b", "c"), Pair("d", "e")]),
        Q("truefalse", answers=[A("ya"), A("tidak", "0")]),
        Q("numerical", answers=[A("tiga")]),
        Q("essay"),
    ],
)
def test_gift_dump_refuses_what_gift_cannot_hold(q):
    with pytest.raises(ValueError, match="question 'Q'"):
        gift.dump([q])


# -- Moodle XML: reading --------------------------------------------------------------


CATEGORY = "Default for PGP Informatika SMP/Berpikir Komputasional"
SAMPLE_QUESTIONS = [
    Question(
        qtype="multichoice",
        name="BK-01 Dekomposisi",
        text='<p dir="ltr" style="text-align: left;">Memecah persoalan besar menjadi'
        " bagian-bagian yang lebih kecil sehingga lebih mudah diselesaikan disebut ...<br></p>",
        text_format="html",
        category=CATEGORY,
        default_mark=D(2),
        answers=[
            A('<p dir="ltr" style="text-align: left;">dekomposisi</p>', "1", "<p>Tepat.</p>"),
            A(
                '<p dir="ltr" style="text-align: left;">abstraksi</p>',
                "0",
                "<p>Abstraksi menyaring detail yang tidak penting.</p>",
            ),
            A('<p dir="ltr" style="text-align: left;">pengenalan pola</p>', "0"),
        ],
        general_feedback="<p>Dekomposisi adalah salah satu <strong>fondasi</strong>"
        " berpikir komputasional.</p>",
        line=26,
    ),
    Question(
        qtype="multiresponse",
        name="BK-02 Fondasi (pilih semua)",
        text="<p>Manakah yang termasuk fondasi berpikir komputasional?"
        " <em>(Pilih semua jawaban yang benar.)</em></p>",
        text_format="html",
        category=CATEGORY,
        answers=[
            A("dekomposisi", "0.3333333"),
            A("abstraksi", "0.3333333"),
            A("algoritma", "0.3333333"),
            A("mengetik cepat", "-1", "<p>Bukan fondasi &amp; bukan tujuan.</p>"),
        ],
        shuffle=False,
        line=84,
    ),
    Question(
        qtype="truefalse",
        name="BK-03 Unplugged",
        text="Kegiatan unplugged (tanpa komputer) dapat mengenalkan konsep algoritma"
        " & bilangan biner.",
        text_format="moodle",
        category=CATEGORY,
        answers=[
            A("true", "1", "Benar, misalnya kartu biner."),
            A("false", "0", "Coba lagi: CS Unplugged mengajarkannya tanpa komputer."),
        ],
        line=139,
    ),
    Question(
        qtype="shortanswer",
        name="BIN-01 Kartu biner 13",
        text="<p>Tuliskan bilangan 13 dalam <b>biner</b> (lima digit).</p>",
        text_format="html",
        category=CATEGORY + "/Biner",
        default_mark=D("1.5"),
        answers=[
            A("01101"),
            A("1101", "0.5", "<p>Benar, tetapi tuliskan lima digit.</p>"),
            A("*", "0", "Hitung lagi nilai setiap kartu."),
        ],
        general_feedback="<p>13 = 8 + 4 + 1.</p>",
        case_sensitive=True,
        line=179,
    ),
    Question(
        qtype="numerical",
        name="BIN-02 Nilai terbesar",
        text="<p>Berapakah bilangan terbesar yang dapat dinyatakan dengan lima kartu biner?</p>",
        text_format="html",
        category=CATEGORY + "/Biner",
        answers=[
            A("31", "1", "<p>16 + 8 + 4 + 2 + 1.</p>", "0"),
            A("32", "0.5", "Hampir: 32 perlu kartu keenam.", "0.5"),
            A("*", "0"),  # any other answer: its <tolerance> means nothing
        ],
        line=215,
    ),
    Question(
        qtype="matching",
        name="BIN-03 Pasangkan",
        text="<p>Pasangkan bilangan biner dengan nilai desimalnya.</p>",
        text_format="html",
        category=CATEGORY + "/Biner",
        default_mark=D(3),
        pairs=[
            Pair("<p>101</p>", "5"),
            Pair("<p>1000</p>", "8"),
            Pair("<p>1111</p>", "15"),
            Pair("", "11"),
        ],
        line=257,
    ),
]


def test_xml_moodle_4_export():
    assert moodle_xml.parse(SAMPLE.read_bytes()) == SAMPLE_QUESTIONS


def test_xml_moodle_4_export_as_text():
    assert moodle_xml.parse(SAMPLE.read_text(encoding="utf-8")) == SAMPLE_QUESTIONS
    assert moodle_xml.parse("\ufeff" + SAMPLE.read_text(encoding="utf-8")) == SAMPLE_QUESTIONS


def test_xml_lines_are_those_of_the_question_elements():
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    for q in SAMPLE_QUESTIONS:
        assert lines[q.line - 1].strip().startswith("<question type=")
        assert q.name in lines[q.line + 1]


def xml(body: str) -> str:
    """A Moodle XML file: `body` starts on line 3."""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}</quiz>\n'


def question(qtype: str, inner: str, text: str = "Teks") -> str:
    """A question element of 3 lines plus `inner`: from line 3 of `xml`, inner is on 6."""
    return (
        f'<question type="{qtype}">\n'
        "<name><text>Q</text></name>\n"
        f'<questiontext format="html"><text>{text}</text></questiontext>\n'
        f"{inner}</question>\n"
    )


MC_ANSWERS = (
    '<answer fraction="100"><text>a</text></answer>\n<answer fraction="0"><text>b</text></answer>\n'
)


def test_xml_minimal_questions_take_moodle_defaults():
    src = xml(
        question("multichoice", MC_ANSWERS)
        + '<question type="truefalse">\n<name><text/></name><questiontext><text>x</text></questiontext>\n'
        '<answer fraction="0"><text>False</text></answer>\n'
        '<answer fraction="100"><text>True</text></answer>\n</question>\n'
    )
    assert moodle_xml.parse(src) == [
        Question("multichoice", "Q", "Teks", answers=[A("a"), A("b", "0")], line=3),
        Question("truefalse", "x", "x", text_format="moodle", answers=TF(True), line=9),
    ]


@pytest.mark.parametrize(
    "body, expected",
    [
        (question("essay", ""), [(3, "essay questions are not supported")]),
        (question("description", ""), [(3, "description items are not supported")]),
        (
            question("multianswer", ""),
            [(3, "embedded answers (Cloze) questions are not supported")],
        ),
        (question("calculated", ""), [(3, "calculated questions are not supported")]),
        (question("ddwtos", ""), [(3, "drag and drop into text questions are not supported")]),
        (question("gapselect", ""), [(3, "select missing words questions are not supported")]),
        (question("mystery", ""), [(3, '"mystery" questions are not supported')]),
        ("<question>\n</question>\n", [(3, "a question has no type")]),
        (
            '<question type="truefalse">\n<questiontext><text>x</text></questiontext>\n'
            '<answer fraction="100"><text>true</text></answer>\n'
            '<answer fraction="0"><text>false</text></answer>\n</question>\n',
            [(3, "the question has no <name>")],
        ),
        (
            question(
                "multichoice",
                MC_ANSWERS + '<file name="a.png" path="/" encoding="base64">iVBORw0K</file>\n',
                '<![CDATA[<img src="@@PLUGINFILE@@/a.png">]]>',
            ),
            [(8, "embedded files are not supported")],
        ),
        (
            question("multichoice", MC_ANSWERS, '<![CDATA[<img src="@@PLUGINFILE@@/a.png">]]>'),
            [(3, "embedded files (@@PLUGINFILE@@) are not supported")],
        ),
        (question("multichoice", MC_ANSWERS, ""), [(3, "the question has no text")]),
        (
            question("multichoice", '<answer fraction="abc"><text>a</text></answer>\n'),
            [(6, 'the grade "abc" is not a number')],
        ),
        (
            question("multichoice", "<defaultgrade>satu</defaultgrade>\n" + MC_ANSWERS),
            [(6, "<defaultgrade> must be a number")],
        ),
        (
            question("multichoice", "<defaultgrade>-1</defaultgrade>\n" + MC_ANSWERS),
            [(3, "the mark of a question cannot be negative")],
        ),
        (
            question("multichoice", "<single>maybe</single>\n" + MC_ANSWERS),
            [(6, "<single> must be true or false")],
        ),
        (
            question(
                "multichoice",
                '<answer fraction="50"><text>a</text></answer>\n'
                '<answer fraction="0"><text>b</text></answer>\n',
            ),
            [(3, "a multiple-choice question needs a correct answer")],
        ),
        (
            question("multichoice", '<answer fraction="100"><text>a</text></answer>\n'),
            [(3, "a multiple-choice question needs at least two answers")],
        ),
        (
            question(
                "multichoice",
                "<single>false</single>\n"
                '<answer fraction="50"><text>a</text></answer>\n'
                '<answer fraction="0"><text>b</text></answer>\n',
            ),
            [
                (
                    3,
                    "the correct answers of a multiple-response question must add up to 100%"
                    " (they add up to 50%)",
                )
            ],
        ),
        (
            question(
                "multichoice",
                '<answer fraction="100"><text>a</text></answer>\n'
                '<answer fraction="-200"><text>b</text></answer>\n'
                '<answer fraction="0"><text></text></answer>\n',
            ),
            [(7, "a grade of -200% is out of range (-100% to 100%)"), (8, "an answer is empty")],
        ),
        (
            question(
                "truefalse",
                '<answer fraction="100"><text>ya</text></answer>\n'
                '<answer fraction="0"><text>tidak</text></answer>\n',
            ),
            [(3, "a true/false question needs the answers true and false, one worth 100%")],
        ),
        (
            question("shortanswer", '<answer fraction="50"><text>a</text></answer>\n'),
            [(3, "a short-answer question needs an answer worth 100%")],
        ),
        (
            question("shortanswer", "<usecase>kadang</usecase>\n"),
            [(6, "<usecase> must be true or false")],
        ),
        (
            question(
                "numerical",
                '<answer fraction="100">\n<text>tiga</text>\n<tolerance>0</tolerance>\n</answer>\n'
                '<answer fraction="50">\n<text>3</text>\n<tolerance>x</tolerance>\n</answer>\n',
            ),
            [(10, 'the tolerance "x" is not a number')],
        ),
        (
            question(
                "numerical",
                '<answer fraction="100">\n<text>tiga</text>\n<tolerance>0</tolerance>\n</answer>\n',
            ),
            [(6, '"tiga" is not a number')],
        ),
        (
            question(
                "numerical",
                '<answer fraction="100"><text>3</text></answer>\n'
                "<units>\n<unit>\n<multiplier>1</multiplier>\n<unit_name>m</unit_name>\n"
                "</unit>\n</units>\n",
            ),
            [(8, "units are not supported")],
        ),
        (
            question(
                "matching",
                "<subquestion><text>a</text><answer><text>1</text></answer></subquestion>\n"
                "<subquestion><text>b</text><answer><text></text></answer></subquestion>\n"
                "<subquestion><text></text><answer><text>x</text></answer></subquestion>\n",
            ),
            [(7, "a matching pair has no answer")],
        ),
        (
            question(
                "matching",
                "<subquestion><text>a</text><answer><text>1</text></answer></subquestion>\n",
            ),
            [(3, "a matching question needs at least two sub-questions")],
        ),
    ],
)
def test_xml_problems(body, expected):
    assert problems(moodle_xml.parse, xml(body)) == sorted(expected)


@pytest.mark.parametrize(
    "src, expected",
    [
        (
            xml(question("truefalse", "<answer>\n</quiz>\n")),
            [(7, "malformed XML: mismatched tag (column 3)")],
        ),
        (b"", [(1, "malformed XML: no element found (column 1)")]),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n<question type="essay">\xe9 x</question></quiz>',
            [(3, "malformed XML: not well-formed (invalid token) (column 24)")],
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
            "<quiz>&lol2;</quiz>\n",
            [(2, "DOCTYPE and entity declarations are not allowed")],
        ),
        (
            '<?xml version="1.0"?>\n\n<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            "<quiz>&xxe;</quiz>\n",
            [(3, "DOCTYPE and entity declarations are not allowed")],
        ),
        (
            '<?xml version="1.0"?>\n\n<questions/>\n',
            [(3, "this is not a Moodle XML question file (<questions> instead of <quiz>)")],
        ),
    ],
)
def test_xml_unreadable_files(src, expected):
    assert problems(moodle_xml.parse, src) == expected


def test_xml_every_problem_of_a_file_is_reported_at_once():
    src = xml(
        question("essay", "")  # 3
        + question("multichoice", MC_ANSWERS)  # 7: fine
        + question("cloze", "")  # 13
        + question("numerical", '<answer fraction="100"><text>2,5</text></answer>\n')  # 17, 20
    )
    with pytest.raises(FormatError) as exc:
        moodle_xml.parse(src)
    assert str(exc.value) == (
        "line 3: essay questions are not supported; "
        'line 13: "cloze" questions are not supported; '
        'line 20: "2,5" is not a number'
    )


def test_xml_an_empty_quiz_has_no_questions():
    assert moodle_xml.parse(xml("")) == []


# -- Moodle XML: writing --------------------------------------------------------------


def test_xml_round_trip_keeps_marks_case_and_shuffling():
    out = moodle_xml.dump(SAMPLE_QUESTIONS)
    assert unlined(moodle_xml.parse(out)) == unlined(SAMPLE_QUESTIONS)
    qs = [
        Q("shortanswer", default_mark=D("2.5"), case_sensitive=True, answers=[A("a")]),
        Q("multiresponse", shuffle=False, answers=[A("a", "0.5"), A("b", "0.5")]),
        Q("matching", shuffle=False, default_mark=D(0), pairs=[Pair("a", "1"), Pair("b", "2")]),
    ]
    assert unlined(moodle_xml.parse(moodle_xml.dump(qs))) == qs


def test_xml_dump_is_moodle_shaped():
    out = moodle_xml.dump(
        [Q(text="a < b & c ]]> d", category="x/y", answers=[A("<b>1</b>"), A("2", "0")])]
    )
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
    assert "<text>$course$/top/x/y</text>" in out
    assert "<text><![CDATA[a < b & c ]]]]><![CDATA[> d]]></text>" in out
    assert '<questiontext format="moodle_auto_format">' in out
    assert '<answer fraction="100" format="moodle_auto_format">' in out
    assert "<single>true</single>" in out
    assert moodle_xml.parse(out)[0].text == "a < b & c ]]> d"


def test_xml_dump_refuses_characters_xml_cannot_hold():
    with pytest.raises(ValueError, match="XML cannot hold"):
        moodle_xml.dump([Q(text="bel \x07", answers=[A("a"), A("b", "0")])])


# -- Between formats and at scale ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, count",
    [("sesi-1", 16), ("sesi-2", 16), ("sesi-3", 16), ("sesi-4", 16), ("tes-akhir", 20)],
)
def test_shipped_banks(name, count):
    qs = gift.parse((BANKS / f"{name}.gift").read_text(encoding="utf-8"))
    assert len(qs) == count
    assert {q.category for q in qs} == {f"informatika-smp/{name}"}
    assert len({q.name for q in qs}) == count
    assert {q.qtype for q in qs} <= set(QTYPES)
    same = unlined(qs)
    assert unlined(gift.parse(gift.dump(qs))) == same
    assert unlined(moodle_xml.parse(moodle_xml.dump(qs))) == same
    assert unlined(gift.parse(gift.dump(moodle_xml.parse(moodle_xml.dump(qs))))) == same


WORDS = [
    "guru", "siswa", "sekolah", "algoritma", "data", "jaringan", "komputer", "bilangan",
    "biner", "pola", "abstraksi", "dekomposisi", "peta", "graf", "simpul", "sisi", "kartu",
    "robot", "tabel", "rumus", "sel", "grafik", "privasi", "kata", "sandi", "internet",
    "berkas", "folder", "perulangan", "percabangan", "variabel",
]  # fmt: skip
ODD = [
    "{", "}", "~", "=", "#", ":", "\\", "::", "####", "\\n", "%", "[", "]", "//", "_____",
    "$CATEGORY:", "&", "<b>", "]]>", "é", "\u2019", "“kutip”", "½", "\n", "\n// bukan komentar",
    "\n\nparagraf", "->", "$B$1", "\\{", "T", "{#1..5}", "::nama::", "~%50%",
]  # fmt: skip
STARTS = ["[html] ", "%50% ", "[", "%", "{", "=", "~", "#", ":", "// ", "->", "$CATEGORY: "]
CATEGORIES = [
    "",
    "informatika-smp",
    "informatika-smp/sesi-1",
    "Matematika & Logika/Pecahan: ½",
    "Bank Guru/Sesi 2/Biner",
]


def phrase(rng: random.Random, arrow: bool = True) -> str:
    """Indonesian-ish words with the characters GIFT and XML must escape."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
    if rng.random() < 0.6:
        odd = [o for o in ODD if arrow or o != "->"]
        words.insert(rng.randint(0, len(words)), rng.choice(odd))
    text = " ".join(words)
    if rng.random() < 0.1:
        text = rng.choice([s for s in STARTS if arrow or s != "->"]) + text
    return text.strip()


def generated_bank(n: int = 1200, seed: int = 20240501) -> list[Question]:
    rng = random.Random(seed)
    qs = []
    for i in range(n):
        qtype = QTYPES[rng.randrange(6) if i >= 6 else i]
        fmt = rng.choice(["moodle", "html", "plain", "markdown"])
        text = phrase(rng)
        if fmt == "html":
            text = f"<p>{text} &amp; <strong>{rng.choice(WORDS)}</strong></p>"
        q = Question(
            qtype=qtype,  # type: ignore[arg-type]
            name=f"G{i:04d} {phrase(rng)}".replace("\n", " ").strip(),
            text=text,
            text_format=fmt,  # type: ignore[arg-type]
            category=CATEGORIES[(i // 97) % len(CATEGORIES)],
            general_feedback=phrase(rng) if rng.random() < 0.3 else "",
        )
        feedback = lambda: phrase(rng) if rng.random() < 0.3 else ""  # noqa: E731
        if qtype == "multichoice":
            q.answers = [Answer(phrase(rng), D(1), feedback())]
            for _ in range(rng.randint(1, 5)):
                fraction = rng.choice(["0", "0", "-0.25", "0.5", "0.3333333", "-1"])
                q.answers.append(Answer(phrase(rng), D(fraction), feedback()))
            rng.shuffle(q.answers)
        elif qtype == "multiresponse":
            right = rng.randint(1, 4)
            share = {1: "1", 2: "0.5", 3: "0.3333333", 4: "0.25"}[right]
            q.answers = [Answer(phrase(rng), D(share), feedback()) for _ in range(right)]
            q.answers += [
                Answer(phrase(rng), D(rng.choice(["0", "-1", "-0.5"])), feedback())
                for _ in range(rng.randint(1, 3))
            ]
            rng.shuffle(q.answers)
        elif qtype == "truefalse":
            q.answers = TF(rng.random() < 0.5, feedback(), feedback())
        elif qtype == "shortanswer":  # GIFT cannot hold "->" in a short answer
            q.answers = [
                Answer(phrase(rng, arrow=False), D(fraction), phrase(rng, arrow=False))
                for fraction in ["1", *rng.sample(["0.5", "0", "0.1"], rng.randint(0, 3))]
            ]
        elif qtype == "numerical":
            tolerance = lambda: rng.choice([None, D(0), D("0.01"), D("0.5"), D("2")])  # noqa: E731
            values = ["3.14", "-2", "1000", "0.5", "1e3", "42", "+7", ".25"]
            q.answers = [Answer(rng.choice(values), D(1), feedback(), tolerance())]
            for _ in range(rng.randint(0, 2)):
                q.answers.append(Answer(rng.choice(values), D("0.5"), feedback(), tolerance()))
            if rng.random() < 0.3:
                q.answers.append(Answer("*", D(0), feedback()))
        else:
            q.pairs = [
                Pair(phrase(rng, arrow=False), phrase(rng)) for _ in range(rng.randint(2, 5))
            ]
            if rng.random() < 0.4:
                q.pairs.append(Pair("", phrase(rng)))
        qs.append(q)
    return qs


def test_the_generated_bank_is_what_it_claims():
    qs = generated_bank()
    assert len(qs) == 1200
    assert {q.qtype for q in qs} == set(QTYPES)
    assert {q.category for q in qs} == set(CATEGORIES)
    assert {q.text_format for q in qs} == {"moodle", "html", "plain", "markdown"}
    assert all(not common.check(q, []) for q in qs)
    every_text = "".join(q.name + q.text for q in qs)
    assert all(c in every_text for c in "{}~=#:\\\n%[]&<é")


def test_generated_bank_round_trips_through_gift():
    qs = generated_bank()
    out = gift.dump(qs)
    back = gift.parse(out)
    assert unlined(back) == qs
    lines = out.split("\n")
    assert all(lines[q.line - 1].startswith("::G") for q in back)


def test_generated_bank_round_trips_through_xml_with_marks_case_and_shuffling():
    rng = random.Random(7)
    qs = [
        replace(
            q,
            default_mark=D(rng.choice(["1", "2", "0.5", "10"])),
            case_sensitive=q.qtype == "shortanswer" and rng.random() < 0.5,
            shuffle=q.qtype not in ("multichoice", "multiresponse", "matching")
            or rng.random() < 0.5,
        )
        for q in generated_bank()
    ]
    assert unlined(moodle_xml.parse(moodle_xml.dump(qs))) == qs
    assert unlined(moodle_xml.parse(moodle_xml.dump(qs).encode())) == qs


def test_generated_bank_gift_to_xml_to_gift():
    qs = generated_bank()
    from_xml = moodle_xml.parse(moodle_xml.dump(gift.parse(gift.dump(qs))))
    assert unlined(from_xml) == qs
    assert unlined(gift.parse(gift.dump(from_xml))) == qs


def test_moodle_export_to_gift_and_back_loses_only_what_gift_cannot_say():
    qs = moodle_xml.parse(SAMPLE.read_bytes())
    through_gift = gift.parse(gift.dump(qs))
    expected = [
        replace(q, line=0, default_mark=D(1), case_sensitive=False, shuffle=True) for q in qs
    ]
    assert unlined(through_gift) == expected
    assert unlined(moodle_xml.parse(moodle_xml.dump(through_gift))) == expected


# -- The registry ---------------------------------------------------------------------


def test_formats_by_name():
    assert set(formats.FORMATS) == {"gift", "moodle-xml"}
    assert (formats.FORMATS["gift"].extension, formats.FORMATS["moodle-xml"].extension) == (
        "gift",
        "xml",
    )
    assert formats.FORMATS["moodle-xml"].media_type.startswith("application/xml")
    gift_text = (BANKS / "sesi-1.gift").read_text(encoding="utf-8")
    qs = formats.parse("gift", gift_text)
    assert len(qs) == 16
    assert unlined(formats.parse("moodle-xml", formats.dump("moodle-xml", qs))) == unlined(qs)
    assert formats.dump("gift", qs) == gift.dump(qs)
    with pytest.raises(ValueError, match="unknown question format 'qti'"):
        formats.parse("qti", "")
    with pytest.raises(FormatError):
        formats.parse("moodle-xml", gift_text.encode())


@pytest.mark.parametrize(
    "filename, fmt",
    [("bank.gift", "gift"), ("Moodle export.TXT", "gift"), ("a.b.xml", "moodle-xml"), ("x", None)],
)
def test_format_from_a_file_name(filename, fmt):
    assert formats.guess(filename) == fmt


# -- Problems in the user's language --------------------------------------------------

WORDED_BADLY = "::N::Angka {#tiga}\n\n::E::Ceritakan. {}\n\n::M::Pilih. {~a ~b}\n"


def test_problems_are_worded_in_the_language_of_the_request(app):
    """Worded when shown: in Bahasa Indonesia (the default) or English (the session's
    locale); a file's text quoted in a message is still escaped on a page."""
    from flask import render_template_string, session

    from plugins.quiz import banks

    with pytest.raises(FormatError) as exc:
        gift.parse(WORDED_BADLY)
    with pytest.raises(FormatError) as empty:
        banks.parse_file("moodle-xml", b"  \n")
    english = [
        (1, '"tiga" is not a number'),
        (3, "essay questions are not supported"),
        (5, "a multiple-choice question needs a correct answer (mark it with =)"),
    ]
    with app.test_request_context():
        assert [(n, str(m)) for n, m in exc.value.problems] == [
            (1, '"tiga" bukan angka'),
            (3, "soal esai tidak didukung"),
            (5, "soal pilihan ganda memerlukan jawaban yang benar (tandai dengan =)"),
        ]
        assert str(exc.value).startswith('line 1: "tiga" bukan angka; line 3: soal esai')
        assert [str(m) for _n, m in empty.value.problems] == ["berkas kosong"]
        quoted = common.lazy_gettext('"%(text)s" is not a number', text="<b>3</b>")
        assert render_template_string("{{ m }}", m=quoted) == (
            "&#34;&lt;b&gt;3&lt;/b&gt;&#34; bukan angka"
        )
    with app.test_request_context():
        session["locale"] = "en"
        assert [(n, str(m)) for n, m in exc.value.problems] == english
        assert [str(m) for _n, m in empty.value.problems] == ["the file is empty"]
    with app.app_context():  # the CLI: an app but no request, so English
        assert [(n, str(m)) for n, m in exc.value.problems] == english
    assert exc.value.problems == english  # and English outside the app


def test_the_cli_words_problems_in_english(app, tmp_path):
    broken = tmp_path / "broken.gift"
    broken.write_text(WORDED_BADLY, encoding="utf-8")
    out = app.test_cli_runner().invoke(
        args=["questions", "import", "--bank", "ts-9", "--format", "gift", str(broken)]
    )
    assert out.exit_code != 0
    assert f'{broken}:1: "tiga" is not a number\n' in out.output
    assert f"{broken}:3: essay questions are not supported\n" in out.output
