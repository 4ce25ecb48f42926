"""factory-boy factories: the one place tests build people, modules and tickets."""

from __future__ import annotations

from typing import Any

import factory

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.services import grant_roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    department = "技术部"
    password = factory.django.Password("secret-password-1")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            grant_roles(user=self, roles=extracted)


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"module{n}")
    name = factory.Sequence(lambda n: f"模块{n}")
    owner = factory.SubFactory(UserFactory)
