#!/usr/bin/env python3
"""Regenerates the foreign hash vectors hard-coded in vectors_test.go.

Each vector comes from an implementation other than ours:

  * pbkdf2_sha256: Django's own PBKDF2PasswordHasher (Django 3.2.25 as
    packaged by Debian 12, python3-django; put its dist-packages on
    PYTHONPATH together with python3-asgiref, python3-tz and
    python3-sqlparse). Without Django it falls back to hashlib, which is
    what Django calls.
  * bcrypt: the system libcrypt (libxcrypt) through Python's crypt module.
  * argon2id / argon2i: the reference implementation, libargon2.so.1,
    through ctypes.

Salts are fixed so that the output is reproducible.
"""
import base64
import ctypes
import hashlib
import crypt  # deprecated in 3.11, removed in 3.13; run with python3.11
import binascii
import json


def django_pbkdf2(password, salt, iterations):
    try:
        from django.conf import settings
        if not settings.configured:
            settings.configure()
        from django.contrib.auth.hashers import PBKDF2PasswordHasher
        return PBKDF2PasswordHasher().encode(password, salt, iterations)
    except ImportError:
        dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
        return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt, base64.b64encode(dk).decode())


def bcrypt(password, prefix, cost, salt22):
    return crypt.crypt(password, "%s%02d$%s" % (prefix, cost, salt22))


def django_bcrypt_sha256(password, cost, salt22):
    hexed = binascii.hexlify(hashlib.sha256(password.encode()).digest()).decode()
    return "bcrypt_sha256$" + bcrypt(hexed, "$2b$", cost, salt22)


lib = ctypes.CDLL("libargon2.so.1")
for _fn in (lib.argon2id_hash_encoded, lib.argon2i_hash_encoded):
    _fn.restype = ctypes.c_int
    _fn.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
                    ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                    ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]


def argon2(kind, password, salt, t, m, p, hashlen=32):
    fn = {"id": lib.argon2id_hash_encoded, "i": lib.argon2i_hash_encoded}[kind]
    out = ctypes.create_string_buffer(512)
    pw = password.encode()
    rc = fn(t, m, p, pw, len(pw), salt, len(salt), hashlen, out, len(out))
    assert rc == 0, rc
    return out.value.decode()


V = [
    ("django pbkdf2_sha256 ascii", "Secret-Pass-1!", django_pbkdf2("Secret-Pass-1!", "seasalt2025abcdEFGHijkl", 1000)),
    ("django pbkdf2_sha256 persian", "رمز عبور امن ۱۴۰۳", django_pbkdf2("رمز عبور امن ۱۴۰۳", "pErSiAnSaLt0123456789a", 1000)),
    ("django pbkdf2_sha256 spaces", "  spaced out  ", django_pbkdf2("  spaced out  ", "SpAcEsAlT9876543210zyx", 1000)),
    ("django pbkdf2_sha256 1M (senfi original)", "Secret-Pass-1!", django_pbkdf2("Secret-Pass-1!", "seasalt2025abcdEFGHijkl", 1000000)),
    ("django pbkdf2_sha256 default 3.2", "Secret-Pass-1!", django_pbkdf2("Secret-Pass-1!", "UpSrlEH2dGRTvy6enSB7hQ", 260000)),
    ("bcrypt 2b", "correct horse battery staple", bcrypt("correct horse battery staple", "$2b$", 5, "abcdefghijklmnopqrstuu")),
    ("bcrypt 2y", "correct horse battery staple", bcrypt("correct horse battery staple", "$2y$", 5, "ABCDEFGHIJKLMNOPQRSTUu")),
    ("bcrypt 2a", "گذرواژه", bcrypt("گذرواژه", "$2a$", 4, "0123456789./ABCDEFGHIu")),
    ("bcrypt 12", "correct horse battery staple", bcrypt("correct horse battery staple", "$2b$", 12, "saltsaltsaltsaltsaltsu")),
    ("bcrypt over 72 bytes", "x" * 72 + "-tail that bcrypt never sees", bcrypt("x" * 72 + "-tail that bcrypt never sees", "$2b$", 4, "LongLongLongLongLongLu")),
    ("django bcrypt_sha256", "a password longer than seventy-two bytes " * 3, django_bcrypt_sha256("a password longer than seventy-two bytes " * 3, 4, "zyxwvutsrqponmlkjihgfe")),
    ("argon2id reference", "correct horse battery staple", argon2("id", "correct horse battery staple", b"sixteen byte slt", 2, 19456, 1)),
    ("argon2id reference small", "🔐 کلید", argon2("id", "🔐 کلید", b"another16bytesal", 1, 64, 1)),
    ("django argon2id", "Secret-Pass-1!", "argon2" + argon2("id", "Secret-Pass-1!", b"DjangoSaltAbcdef0123", 2, 1024, 8)),
    ("django argon2i", "Secret-Pass-1!", "argon2" + argon2("i", "Secret-Pass-1!", b"OldDjangoSalt012", 2, 512, 2)),
]

for name, pw, h in V:
    print("{name: %s, password: %s, hash: %s}," % (json.dumps(name), json.dumps(pw, ensure_ascii=False), json.dumps(h)))
