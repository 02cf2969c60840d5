"""实名认证 online: the ID number's GB 11643 check digit and birth date, the phone, and a county's own verifier.

The default verifier checks what the numbers themselves say; a county that has an identity service
(公安 or 政务服务 real-name check) plugs in its own `IdentityVerifier` (server/web/public_api.py reads
PUBLIC_IDENTITY_VERIFIERS). Either way a failure is a Problem on the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Protocol

from xinfang.config import today_in_china

from .errors import Invalid, Problem

__all__ = ["ChecksumVerifier", "IdentityVerifier", "check_digit", "id_number_problem", "phone_problem",
           "verify_petitioner"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[0-9]{7,8}")


def check_digit(first17: str) -> str:
    """GB 11643-1999: the 18th character, from the weighted sum of the first 17 digits modulo 11."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def normal_id(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").replace(" ", "").upper()


def id_number_problem(value: str, today: dt.date | None = None) -> str | None:
    """What is wrong with a citizen ID number (18 characters), in Chinese, or None."""
    number = normal_id(value)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return "公民身份号码应为18位，前17位为数字，最后一位为数字或X"
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"公民身份号码中的出生日期{number[6:14]}不存在"
    if born > (today or today_in_china()) or born.year < 1900:
        return f"公民身份号码中的出生日期{born.isoformat()}不可能"
    if check_digit(number[:17]) != number[17]:
        return "公民身份号码校验码不符（GB 11643），请核对是否输错"
    return None


def phone_problem(value: str) -> str | None:
    """A mainland mobile number (11 digits) or a landline with its area code, or why not."""
    digits = unicodedata.normalize("NFKC", value or "").replace(" ", "")
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return None
    return "联系电话应为11位手机号码，或带区号的固定电话"


class IdentityVerifier(Protocol):
    """A real-name check: the problems with a petitioner's name, ID number and phone (empty: verified)."""

    def __call__(self, petitioner: Mapping[str, str], jurisdiction_code: str) -> list[Problem]: ...


class ChecksumVerifier:
    """The default: the ID number checked by its check digit and birth date, the phone by its form, a name given."""

    def __call__(self, petitioner: Mapping[str, str], jurisdiction_code: str) -> list[Problem]:
        problems = []
        name = str(petitioner.get("name") or "").strip()
        if not name:
            problems.append(Problem("petitioner.name", "missing", "真实姓名为必填项"))
        for field, check in (("id_number", id_number_problem), ("phone", phone_problem)):
            value = petitioner.get(field)
            if not isinstance(value, str) or not value.strip():
                problems.append(Problem(f"petitioner.{field}", "missing",
                                        {"id_number": "公民身份号码", "phone": "联系电话"}[field] + "为必填项"))
            elif (found := check(value)) is not None:
                problems.append(Problem(f"petitioner.{field}", "not_verified", found))
        return problems


def verify_petitioner(petitioner: object, jurisdiction_code: str, verifier: IdentityVerifier) -> None:
    """Refuse (Invalid, `identity_not_verified`) a petitioner the verifier does not accept, naming each field."""
    if not isinstance(petitioner, Mapping):
        problems = [Problem("petitioner", "missing", "网上信访须实名：请填写真实姓名、公民身份号码和联系电话")]
    else:
        problems = verifier(petitioner, jurisdiction_code)
    if problems:
        raise Invalid("identity_not_verified", "the petitioner's identity could not be verified: "
                      + "; ".join(map(str, problems)), problems=problems)
