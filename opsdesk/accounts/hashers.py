"""How passwords are hashed: Argon2id with OWASP's recommended minimum (19 MiB of memory, two
passes, one lane) instead of Django's default 100 MiB and eight lanes.

Django's default made each sign-in take 100 MiB for a moment, which lifted ``make run``'s whole
process tree from under 200 MiB to 271 MiB (bench/README.md, *Memory*), and several sign-ins
at once in the same proportion. A hash made with the old parameters still verifies (they are
part of the hash) and is rehashed with these at its owner's next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    # The same algorithm name, so that this class verifies and upgrades existing hashes.
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
