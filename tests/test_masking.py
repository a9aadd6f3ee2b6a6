"""Data minimisation: identifiers of people on probation are masked (synthetic examples only)."""
import subprocess
import sys

import pytest

from assistant.masking import mask


@pytest.mark.parametrize("text, label, placeholder", [
    ("Saw X123456 this morning", "CASE_REF", "[case reference]"),
    ("crn x654321 needs a review", "CASE_REF", "[case reference]"),
    ("PNC 2011/0012345A came back", "PNC", "[PNC number]"),
    ("PNC is 98/123456Z", "PNC", "[PNC number]"),
    ("prison number A1234BC on the licence", "PRISON_NO", "[prison number]"),
    ("DOB 12/03/1985 on file", "DOB", "[date of birth]"),
    ("born 1985-03-12", "DOB", "[date of birth]"),
    ("born 3 March 1979 in Leeds", "DOB", "[date of birth]"),
    ("born on March 3rd, 1979", "DOB", "[date of birth]"),
    ("dob 01.02.90", "DOB", "[date of birth]"),
    ("ring 07700 900123 later", "PHONE", "[phone number]"),
    ("ring 07700900123 later", "PHONE", "[phone number]"),
    ("landline 020 7946 0018", "PHONE", "[phone number]"),
    ("mobile +44 7700 900123", "PHONE", "[phone number]"),
    ("email jo.bloggs@example.org about it", "EMAIL", "[email address]"),
    ("lives near SW1A 1AA now", "POSTCODE", "[postcode]"),
    ("moved to m1 1ae", "POSTCODE", "[postcode]"),
    ("Mr Smith was late", "NAME", "[name]"),
    ("spoke to mrs jones", "NAME", "[name]"),
    ("Ms O'Neill attended", "NAME", "[name]"),
    ("Mr. John Smith agreed", "NAME", "[name]"),
    ("Dr Brown's report", "NAME", "[name]"),
])
def test_each_kind_of_identifier_is_masked(text, label, placeholder):
    result = mask(text)
    assert result.found.get(label) == 1, (text, result.found, result.text)
    assert placeholder in result.text


def test_several_identifiers_and_a_kind_notice():
    result = mask("Mr Smith (X123456, DOB 12/03/1985) rang from 07700 900123")
    assert result.text == "[name] ([case reference], DOB [date of birth]) rang from [phone number]"
    assert result.found == {"CASE_REF": 1, "DOB": 1, "PHONE": 1, "NAME": 1}
    notice = result.notice()
    assert "privacy" in notice and "1 case reference" in notice and "1 name" in notice


def test_a_name_next_to_another_identifier_keeps_both_labels():
    result = mask("Mr Smith X123456 rang")
    assert result.text == "[name] [case reference] rang"
    assert result.found == {"NAME": 1, "CASE_REF": 1}


@pytest.mark.parametrize("text, expected", [
    # libphonenumber reads "X" + digits after a number as its extension, even across a sentence
    ("Tel: 07700900864. X900001's risk assessment is overdue.",
     "Tel: [phone number]. [case reference]'s risk assessment is overdue."),
    ("Tel: 07700 900864, X900001 rang", "Tel: [phone number], [case reference] rang"),
    ("call 020 7946 0000 ext 123 today", "call [phone number] ext 123 today"),
    # ... and a number followed by a date after a full stop as one date-like candidate
    ("Tel: 07700900864. 03/03/90 is his date of birth.", "Tel: [phone number]. [date of birth] is his date of birth."),
    ("mob 020 7946 0822, 03/03/90 is his DOB", "mob [phone number], [date of birth] is his DOB"),
    # ... or with nothing between them
    ("Tel: 07700900864 03/03/90 is his date of birth", "Tel: [phone number] [date of birth] is his date of birth"),
    ("phone +44 (0)20 7946 0022 31st Jan 1986 is his DOB", "phone [phone number] [date of birth] is his DOB"),
])
def test_a_phone_number_followed_by_what_looks_like_an_extension(text, expected):
    assert mask(text).text == expected


def test_masking_does_not_load_tensorflow():
    """The web app and the action server mask text; TensorFlow (via thinc) would cost ~500 MB."""
    code = ("import sys; from assistant.masking import mask; "
            "assert mask('Mr Smith X123456').changed; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'; "
            "import tensorflow")  # and it can still be imported afterwards
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("text", [
    "SEED training in 2011 under National Standards 2011 went well",
    "Next appointment on 12/12/2025 at 10:30, tier 4 case",
    "I used MI and OARS; he is on an A1 priority list",
    "We agreed 3 goals and reviewed them at the end",
    "The RSM workshop was on Monday",
    "what is the OMFQ-r?",
    "Mr",
    "",
    "café – naïve résumé 👋",
])
def test_ordinary_text_is_left_alone(text):
    result = mask(text)
    assert result.text == text and not result.changed


def test_script_is_not_treated_specially_but_kept_as_text():
    text = "<script>alert('X123456')</script>"
    assert mask(text).text == "<script>alert('[case reference]')</script>"


# --- issue 9 item 3: the formats once missed, and the ordinary words once masked ---------------

@pytest.mark.parametrize("text, identifier, label", [
    ("case X 581204 again", "X 581204", "CASE_REF"),
    ("PNC 20040581208C", "20040581208C", "PNC"),
    ("PNC 2004-0581210E", "2004-0581210E", "PNC"),
    ("prison number A 5814 BE", "A 5814 BE", "PRISON_NO"),
    ("born on the 14th of July 1984", "14th of July 1984", "DOB"),
    ("dob 8 Aug 87", "8 Aug 87", "DOB"),
    ("ring (0161) 496 0819", "(0161) 496 0819", "PHONE"),
    ("mobile 07700-900-221", "07700-900-221", "PHONE"),
    ("call +44 (0)20 7946 0822", "+44 (0)20 7946 0822", "PHONE"),
    ("write to x at example dot com", "x at example dot com", "EMAIL"),
    ("moved to EC1A1BX", "EC1A1BX", "POSTCODE"),
    ("moved to M13  9PX", "M13  9PX", "POSTCODE"),
    ("spoke to Mr J. Smith", "Mr J. Smith", "NAME"),
    ("seen by Dr A-B today", "Dr A-B", "NAME"),
    ("Prof X wrote it", "Prof X", "NAME"),
    ("Jordan Pike missed again", "Jordan Pike", "NAME"),
])
def test_formats_once_missed_are_masked(text, identifier, label):
    result = mask(text)
    assert identifier not in result.text and result.found == {label: 1}, (text, result)


@pytest.mark.parametrize("text", [
    "What happens if people miss appointments?",
    "National Standards 2011 came in on 1 April 2011",
    "Can I join the SEED session on Ms Teams?",
    "The Criminal Justice Act 2003 Schedule 8 para 5 covers warnings",
    "What does s.213 say about the supervision requirement?",
    "The office moved to Victoria Street last year",
    "Will my SPO see my reflection?",
    "look at gov.uk for the guidance",
    "The PI 05/2014 instruction",
])
def test_ordinary_words_once_masked_are_left_alone(text):
    assert mask(text).text == text


def test_staff_names_are_kept_and_other_names_still_masked():
    staff = ["Alex Rowan", "Sam Okafor", "Jo Baptiste"]
    for text in ("ask Alex Rowan to do a Gibbs reflection by Friday", "prompt Sam and Jo about their new-case sessions",
                 "remind Mr Rowan about the SEED reflection"):
        assert mask(text, keep_names=staff).text == text
    assert mask("ask Alex Rowan to do a Gibbs reflection").text == "ask [name] to do a Gibbs reflection"
    assert mask("Sam Okafor met Jordan Pike", keep_names=staff).text == "Sam Okafor met [name]"
