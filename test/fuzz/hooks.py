"""schemathesis hooks for the Sales 2.0 API (loaded by test/fuzz/run.ts): strategies for its own formats.

`format: phone` (CreateRequest.phone) is the API's own format: a phone number in any common notation
that libphonenumber reads as a real number (intake answers 400 for anything else). JSON Schema cannot
say which digit strings are real numbers, so valid values come from this strategy: Russian mobile and
Moscow numbers in the notations people type, and real-format numbers of other countries.
"""
import schemathesis
from hypothesis import strategies as st

digits = lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)

russian = st.builds(
    lambda area, a, b, c, style: style.format(area=area, a=a, b=b, c=c),
    st.sampled_from(["900", "912", "916", "926", "999", "495", "812"]),
    digits(3),
    digits(2),
    digits(2),
    st.sampled_from(["+7 {area} {a}-{b}-{c}", "8 ({area}) {a}-{b}-{c}", "+7{area}{a}{b}{c}", "8{area}{a}{b}{c}", "7 ({area}) {a} {b} {c}"]),
)
international = st.sampled_from(["+44 20 7946 0958", "+49 30 901820", "+1 212 555 0123", "+33 1 42 68 53 00", "+375 29 123-45-67"])

schemathesis.openapi.format("phone", st.one_of(russian, international))

# `format: time-zone` (tenant settings, report time_zone): an IANA name the runtime's ICU knows. Any
# name-shaped string matches the pattern, but only real zones are valid, so they are drawn from a list.
time_zones = st.sampled_from(
    ["UTC", "Europe/Moscow", "Europe/Kaliningrad", "Asia/Yekaterinburg", "Asia/Vladivostok", "Europe/Berlin", "America/New_York", "America/Argentina/Salta", "Australia/Lord_Howe", "Asia/Kathmandu", "Etc/GMT-3", "Pacific/Chatham"]
)
schemathesis.openapi.format("time-zone", time_zones)
