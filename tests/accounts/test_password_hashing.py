"""Passwords are hashed with Argon2id at OWASP's minimum; hashes made with Django's heavier
default still sign in and are upgraded then."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.test import Client

from opsdesk.settings import PASSWORD_HASHERS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hashing(settings):
    settings.PASSWORD_HASHERS = PASSWORD_HASHERS


def parameters(encoded: str) -> str:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
    return encoded.split("$")[3]


def test_a_new_password_is_hashed_with_19_mib_two_passes_and_one_lane(production_hashing):
    encoded = make_password("correct horse battery staple")

    assert encoded.startswith("argon2$argon2id$")
    assert parameters(encoded) == "m=19456,t=2,p=1"


def test_a_hash_with_djangos_default_signs_in_and_is_upgraded(production_hashing):
    person = UserFactory(username="lihua")
    person.password = Argon2PasswordHasher().encode("correct horse battery staple",
                                                    Argon2PasswordHasher().salt())
    person.save(update_fields=["password"])
    assert parameters(person.password) == "m=102400,t=2,p=8"

    answer = Client().post("/accounts/login/", {"username": "lihua",
                                                 "password": "correct horse battery staple"})

    assert answer.status_code == 302
    person.refresh_from_db()
    assert parameters(person.password) == "m=19456,t=2,p=1"
