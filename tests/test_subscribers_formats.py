"""Imports of the files people bring: other tools' exports, separators, encodings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Digest


def everyone(digest: Digest) -> dict[str, dict]:
    rows = json.loads(digest.ok("subscribers", "export", "--format", "json").stdout)
    return {row["email"]: row for row in rows}


MAILCHIMP_SUBSCRIBED = (
    '"Email Address","First Name","Last Name",Address,"Phone Number",MEMBER_RATING,'
    "OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,"
    "CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n"
    'ana@example.com,Ana,"Lima, Jr.",,,2,"2024-01-02 10:00:00",,"2024-01-02 10:01:00",,'
    ',,3,3,Asia/Riyadh,SA,,"2024-01-02 10:01:00",12,abc,,"""Weekly"""\n'
    "ben@example.com,Ben,,,,2,,,,,,,,,,,,,13,abd,,\n"
)

MAILCHIMP_UNSUBSCRIBED = (
    '"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,UNSUB_TIME,'
    "UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER,LEID,EUID\n"
    'ana@example.com,Ana,Lima,2,,"2024-03-01 09:00:00","March news",abc,"No longer '
    'interested",,12,abc\n'
    'carla@example.com,Carla,,2,,"2024-03-02 09:00:00",,,,,14,abe\n'
)

MAILCHIMP_CLEANED = (
    '"Email Address","First Name","Last Name",MEMBER_RATING,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,'
    "CLEAN_CAMPAIGN_ID,LEID,EUID\n"
    'dora@example.com,Dora,,1,"2024-04-01 09:00:00",,,15,abf\n'
)


def test_mailchimp_exports_import_with_their_statuses(digest: Digest, initialised: Path) -> None:
    (initialised / "subscribed.csv").write_text(MAILCHIMP_SUBSCRIBED, encoding="utf-8")
    (initialised / "unsubscribed.csv").write_text(MAILCHIMP_UNSUBSCRIBED, encoding="utf-8")
    (initialised / "cleaned.csv").write_text(MAILCHIMP_CLEANED, encoding="utf-8")
    result = digest.ok("subscribers", "import", "subscribed.csv")
    assert "2 rows: 2 added" in result.stdout
    assert "(read as utf-8, comma-separated)" in result.stdout
    assert "MEMBER_RATING" in result.stderr  # the columns nobody reads are named
    rows = everyone(digest)
    assert rows["ana@example.com"]["name"] == "Ana Lima, Jr."
    assert rows["ana@example.com"]["timezone"] == "Asia/Riyadh"
    assert rows["ana@example.com"]["status"] == "active"
    assert rows["ben@example.com"]["name"] == "Ben"
    digest.ok("subscribers", "import", "unsubscribed.csv")
    digest.ok("subscribers", "import", "cleaned.csv")
    rows = everyone(digest)
    assert rows["ana@example.com"]["status"] == "unsubscribed"  # was active: moved on
    assert rows["carla@example.com"]["status"] == "unsubscribed"  # new, never active
    assert rows["dora@example.com"]["status"] == "unsubscribed"
    assert rows["ben@example.com"]["status"] == "active"
    # Importing the subscribed export again never brings them back.
    digest.ok("subscribers", "import", "subscribed.csv")
    assert everyone(digest)["ana@example.com"]["status"] == "unsubscribed"


def test_a_status_column_in_another_tools_words(digest: Digest, initialised: Path) -> None:
    (initialised / "members.csv").write_text(
        "Email Address,Status\n"
        "a@example.com,subscribed\nb@example.com,cleaned\nc@example.com,Unsubscribed\n"
        "d@example.com,pending\ne@example.com,transactional\n",
        encoding="utf-8",
    )
    (initialised / "contacts.csv").write_text(
        "Email Address,First Name,Email Marketing\n"
        "f@example.com,F,Subscribed\ng@example.com,G,Non-Subscribed\n",
        encoding="utf-8",
    )
    digest.ok("subscribers", "import", "members.csv")
    digest.ok("subscribers", "import", "contacts.csv")
    statuses = {email: row["status"] for email, row in everyone(digest).items()}
    assert statuses == {
        "a@example.com": "active",
        "b@example.com": "unsubscribed",
        "c@example.com": "unsubscribed",
        "d@example.com": "pending",
        "e@example.com": "unsubscribed",
        "f@example.com": "active",
        "g@example.com": "unsubscribed",
    }


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "substack.csv",
            "email,active_subscription,expiry,plan,email_disabled,created_at\n"
            "kept@example.com,false,,free,false,2023-05-01T10:00:00.000Z\n"
            "gone@example.com,false,,free,true,2023-05-02T10:00:00.000Z\n",
        ),
        (
            "ghost.csv",
            "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
            "created_at,deleted_at,labels,tiers\n"
            "6412,kept@example.com,Kept,,true,false,,2023-05-01T10:00:00.000Z,,"
            '"Import, May",\n'
            "6413,gone@example.com,Gone,,false,false,,2023-05-02T10:00:00.000Z,,,\n",
        ),
        (
            "listmonk.csv",
            "uuid,email,name,attributes,status,created_at,updated_at\n"
            'a1,kept@example.com,Kept,"{""city"": ""Riyadh, SA""}",enabled,2023-05-01,2023-05-01\n'
            "a2,gone@example.com,Gone,{},blocklisted,2023-05-02,2023-05-02\n",
        ),
    ],
)
def test_substack_ghost_and_listmonk_exports(
    digest: Digest, initialised: Path, name: str, text: str
) -> None:
    (initialised / name).write_text(text, encoding="utf-8")
    result = digest.ok("subscribers", "import", name)
    assert "2 rows: 2 added" in result.stdout
    rows = everyone(digest)
    assert rows["kept@example.com"]["status"] == "active"
    assert rows["gone@example.com"]["status"] == "unsubscribed"


def test_semicolons_tabs_and_quoted_newlines(digest: Digest, initialised: Path) -> None:
    (initialised / "excel-fr.csv").write_text(
        'E-Mail;NAME;Time Zone\r\nzoe@example.com;"Zoé; la\r\ngrande";Europe/Paris\r\n'
        "yan@example.com;Yan;\r\n",
        encoding="utf-8",
    )
    (initialised / "tabs.tsv").write_text(
        'email\tname\nxia@example.com\t"Xia, Li"\n', encoding="utf-8"
    )
    first = digest.ok("subscribers", "import", "excel-fr.csv")
    assert "2 rows: 2 added" in first.stdout
    assert "semicolon-separated" in first.stdout
    second = digest.ok("subscribers", "import", "tabs.tsv")
    assert "tab-separated" in second.stdout
    rows = everyone(digest)
    assert rows["zoe@example.com"]["name"] == "Zoé; la grande"
    assert rows["zoe@example.com"]["timezone"] == "Europe/Paris"
    assert rows["xia@example.com"]["name"] == "Xia, Li"


@pytest.mark.parametrize(
    ("encoding", "shown", "text"),
    [
        (
            "latin-1",
            "windows-1252",
            "email,name\nzoe@example.com,Zoë Müller\njoao@example.com,João Conceição\n",
        ),
        (
            "cp1256",
            "windows-1256",
            "email,name,language\nlayla@example.com,ليلى حداد,ar\n"
            "omar@example.com,عمر الفاروق,ar\n",
        ),
        ("utf-16", "utf-16", "email\tname\nlayla@example.com\tليلى حداد\nzoe@example.com\tZoë\n"),
    ],
)
def test_encodings_are_detected_and_printed(
    digest: Digest, initialised: Path, encoding: str, shown: str, text: str
) -> None:
    (initialised / "list.csv").write_bytes(text.encode(encoding))  # utf-16 writes a BOM
    result = digest.ok("subscribers", "import", "list.csv")
    assert f"(read as {shown}," in result.stdout
    rows = everyone(digest)
    for line in text.splitlines()[1:]:
        email, name = line.replace("\t", ",").split(",")[:2]
        assert rows[email]["name"] == name


MOSTLY_LATIN = "email,name,language\n" + "".join(
    [f"a{number}@example.com,علي {number},ar\n" for number in range(3)]
    + [f"l{number}@example.com,Latin Reader {number},en\n" for number in range(20)]
)


@pytest.mark.parametrize(
    "text",
    [
        MOSTLY_LATIN,
        "email,name\nx@example.com,علي\ny@example.com,ليلى\n",
        "email,name\nz@example.com,علي\n",
        "email,name\nz@example.com,مُحمّد «أبو علي»\nj@example.com,Hélène Côté\n",
    ],
    ids=["mostly-latin", "two-rows", "one-row", "marks-and-latin"],
)
def test_short_or_mostly_latin_windows_1256_is_arabic(
    digest: Digest, initialised: Path, text: str
) -> None:
    """Bytes alone cannot tell a few Arabic words in Windows-1256 from Mac Roman or
    Windows-1252 mojibake; the site's languages can: Arabic letters, not `Úáí`."""
    (initialised / "list.csv").write_bytes(text.encode("cp1256"))
    result = digest.ok("subscribers", "import", "list.csv")
    assert "(read as windows-1256," in result.stdout
    rows = everyone(digest)
    for line in text.splitlines()[1:]:
        email, name = line.split(",")[:2]
        assert rows[email]["name"] == name


def test_an_unsure_encoding_is_refused_not_garbled(digest: Digest, initialised: Path) -> None:
    """Russian in Windows-1251 is neither of this site's languages (English, Arabic):
    whatever the guess, the names would be mojibake, so the file is refused."""
    text = "email,name\nivan@example.com,Иван Петров\nolga@example.com,Ольга\n"
    (initialised / "ru.csv").write_bytes(text.encode("cp1251"))
    result = digest("subscribers", "import", "ru.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ru.csv: cannot tell the file's text encoding")
    assert "UTF-8" in result.stderr and "--encoding" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert everyone(digest) == {}
    named = digest.ok("subscribers", "import", "ru.csv", "--encoding", "cp1251")
    assert "(read as windows-1251, comma-separated)" in named.stdout
    assert everyone(digest)["ivan@example.com"]["name"] == "Иван Петров"
    unknown = digest("subscribers", "import", "ru.csv", "--encoding", "klingon")
    assert unknown.exit_code == 1
    assert unknown.stderr == "digest: error: ru.csv: unknown text encoding 'klingon'\n"


def test_a_guess_that_garbles_is_refused(digest: Digest, initialised: Path) -> None:
    """On an English-only site, Arabic in Windows-1256 is no site language's text: the
    guess (Windows-1252, Mac Roman...) would store `Úáí`, so the file is refused."""
    config = initialised / "digest.toml"
    settings = config.read_text(encoding="utf-8")
    assert 'languages = ["en", "ar"]' in settings
    config.write_text(settings.replace('languages = ["en", "ar"]', 'languages = ["en"]'))
    text = MOSTLY_LATIN.replace(",language", "").replace(",ar\n", "\n").replace(",en\n", "\n")
    (initialised / "list.csv").write_bytes(text.encode("cp1256"))
    result = digest("subscribers", "import", "list.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "digest: error: list.csv: cannot tell the file's text encoding for sure: it is not "
        "UTF-8, and read as "
    )
    assert len(result.stderr.splitlines()) == 1
    assert everyone(digest) == {}
    named = digest.ok("subscribers", "import", "list.csv", "--encoding", "windows-1256")
    assert "(read as windows-1256, comma-separated)" in named.stdout
    assert everyone(digest)["a0@example.com"]["name"] == "علي 0"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "names", [("Layla Haddad", "Zoe"), ("ليلى حداد", "Zoë")], ids=["ascii", "arabic"]
)
def test_utf16_without_a_byte_order_mark(
    digest: Digest, initialised: Path, encoding: str, names: tuple[str, str]
) -> None:
    """Some tools write UTF-16 with no BOM; ASCII in it is every other byte NUL, which is
    also valid UTF-8, so it must be recognised before UTF-8 is tried."""
    text = f"email,name\nlayla@example.com,{names[0]}\nzoe@example.com,{names[1]}\n"
    (initialised / "list.csv").write_bytes(text.encode(encoding))
    result = digest.ok("subscribers", "import", "list.csv")
    assert f"(read as {encoding}, comma-separated)" in result.stdout
    rows = everyone(digest)
    assert rows["layla@example.com"]["name"] == names[0]
    assert rows["zoe@example.com"]["name"] == names[1]


def test_nul_bytes_in_a_header_are_not_printed(digest: Digest, initialised: Path) -> None:
    (initialised / "wide.csv").write_bytes("email,name\nw@example.com,W\n".encode("utf-32-le"))
    result = digest("subscribers", "import", "wide.csv")
    assert result.exit_code == 1
    assert "\0" not in result.stderr
    assert "(found text with NUL bytes: UTF-16 or UTF-32 without a byte-order mark?" in (
        result.stderr
    )


def test_map_names_the_columns_nobody_could_guess(digest: Digest, initialised: Path) -> None:
    (initialised / "fr.csv").write_text(
        "Courriel,Prénom,Nom,Commentaire\nluc@example.com,Luc,Martin,VIP\n", encoding="utf-8"
    )
    refused = digest("subscribers", "import", "fr.csv")
    assert refused.exit_code == 1
    assert "fr.csv: line 1: the header row has no 'email' column" in refused.stderr
    result = digest.ok(
        "subscribers",
        "import",
        "fr.csv",
        "--map",
        "courriel=email",
        "--map",
        "PRÉNOM=first_name",
        "--map",
        "Nom=last_name",
        "--map",
        "Commentaire=-",
    )
    assert result.stderr == ""
    assert everyone(digest)["luc@example.com"]["name"] == "Luc Martin"
    unknown = digest("subscribers", "import", "fr.csv", "--map", "Courriel=mail")
    assert unknown.exit_code == 1
    assert "column mapping 'Courriel=mail': unknown field 'mail'" in unknown.stderr
    missing = digest("subscribers", "import", "fr.csv", "--map", "Adresse=email")
    assert missing.exit_code == 1
    assert "names 'adresse', which the header row does not have" in missing.stderr


def test_a_huge_header_is_named_in_a_short_warning(digest: Digest, initialised: Path) -> None:
    """Every ignored column named would be megabytes of warning for a broken header."""
    unknown = [f"extra{number}" for number in range(20_000)] + ["x" * 5000]
    (initialised / "wide.csv").write_text(
        ",".join(["email", *unknown]) + "\nw@example.com\n", encoding="utf-8"
    )
    result = digest.ok("subscribers", "import", "wide.csv")
    assert result.stderr.startswith(
        "warning: wide.csv: ignored unknown columns: extra0, extra1, extra2, "
    )
    assert result.stderr.endswith(", extra9 and 19,991 more\n")
    assert len(result.stderr) < 300
    (initialised / "long.csv").write_text("x" * 5000 + ",email\n,w@example.com\n")
    long = digest.ok("subscribers", "import", "long.csv")
    assert long.stderr == f"warning: long.csv: ignored unknown columns: {'x' * 59}…\n"


def test_two_columns_for_one_field_are_refused(digest: Digest, initialised: Path) -> None:
    (initialised / "both.csv").write_text(
        "email,Email Address\na@example.com,b@example.com\n", encoding="utf-8"
    )
    result = digest("subscribers", "import", "both.csv")
    assert result.exit_code == 1
    assert "columns 'email' and 'Email Address' both give email" in result.stderr
    ok = digest.ok("subscribers", "import", "both.csv", "--map", "Email Address=-")
    assert "1 rows: 1 added" in ok.stdout


def test_still_all_or_nothing_with_line_numbers(digest: Digest, initialised: Path) -> None:
    (initialised / "bad.csv").write_text(
        "Email Address;First Name;Language\n"
        'ok@example.com;"two\nlines";en\n'
        "not-an-address;X;en\n"
        "fine@example.com;Y;xx\n",
        encoding="utf-8",
    )
    result = digest("subscribers", "import", "bad.csv")
    assert result.exit_code == 1
    assert "bad.csv: line 4: email:" in result.stderr
    assert "bad.csv: line 5: language: 'xx'" in result.stderr
    assert digest.ok("subscribers", "count").stdout.strip() == "0"


def test_ghost_flag_that_is_not_a_yes_or_no_names_the_column(
    digest: Digest, initialised: Path
) -> None:
    (initialised / "ghost.csv").write_text(
        "email,subscribed_to_emails\na@example.com,maybe\n", encoding="utf-8"
    )
    result = digest("subscribers", "import", "ghost.csv")
    assert result.exit_code == 1
    assert "line 2: subscribed_to_emails: 'maybe' is not true or false" in result.stderr


NOT_A_TEXT_ENCODING = (
    "digest: error: list.csv: {!r} is not a text encoding a CSV file can be read in; name "
    "the file's character set, as utf-8 or cp1256 (nothing imported)\n"
)


@pytest.mark.parametrize(
    ("named", "message"),
    [
        *((name, NOT_A_TEXT_ENCODING.format(name)) for name in ("rot13", "base64", "hex")),
        *((name, NOT_A_TEXT_ENCODING.format(name)) for name in ("zlib", "idna", "punycode")),
        ("undefined", NOT_A_TEXT_ENCODING.format("undefined")),
        *(
            (
                name,
                f"digest: error: list.csv: not {name} text (the encoding given); name the "
                "file's encoding, or save it as CSV in UTF-8 and import it again (nothing "
                "imported)\n",
            )
            for name in ("utf-16", "utf-32")
        ),
        (
            "utf-8",
            "digest: error: list.csv: line 2: not utf-8 text (the encoding given); name the "
            "file's encoding, or save it as CSV in UTF-8 and import it again (nothing "
            "imported)\n",
        ),
    ],
)
def test_a_named_encoding_that_cannot_read_the_file_is_one_line(
    digest: Digest, initialised: Path, named: str, message: str
) -> None:
    """Codecs that are not text encodings, or refuse the error handler, or do not fit
    the bytes: one line naming the file and the encoding, nothing written."""
    (initialised / "list.csv").write_bytes("email,name\nzoe@example.com,Zoë\n".encode("cp1252"))
    result = digest("subscribers", "import", "list.csv", "--encoding", named)
    assert (result.exit_code, result.stderr) == (1, message)
    assert everyone(digest) == {}


def test_bytes_that_do_not_decode_late_in_a_named_encoding_are_one_line(
    digest: Digest, initialised: Path
) -> None:
    """A UTF-16 file whose last byte is left over, beyond the part read for the separator:
    the error comes while the rows are read, and is the same one line."""
    rows = "".join(f"user{i}@example.com,User {i}\n" for i in range(3000))
    data = ("email,name\n" + rows).encode("utf-16") + b"x"
    (initialised / "list.csv").write_bytes(data)
    result = digest("subscribers", "import", "list.csv", "--encoding", "utf-16")
    assert (result.exit_code, result.stderr) == (
        1,
        "digest: error: list.csv: not utf-16 text (the encoding given); name the file's "
        "encoding, or save it as CSV in UTF-8 and import it again (nothing imported)\n",
    )
    assert everyone(digest) == {}
