"""Prints a random unified social credit code (统一社会信用代码) with a valid GB 32100 check
character, for an organization nobody else uses."""
import random

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

body = "91" + "".join(random.choice("0123456789") for _ in range(6)) + "".join(
    random.choice(ALPHABET) for _ in range(9)
)
check = (31 - sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS)) % 31) % 31
print(body + ALPHABET[check])
