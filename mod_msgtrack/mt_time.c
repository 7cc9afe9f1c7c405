/* mt_time.c: xs:dateTime parsing and formatting */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "mt_time.h"

/* Howard Hinnant's civil-from-days algorithms, proleptic Gregorian. */
long mt_time_days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    long era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

static int digits(const char **s, int n, long *v)
{
    long r = 0;
    int i;
    for (i = 0; i < n; i++) {
        if (!apr_isdigit((*s)[i]))
            return -1;
        r = r * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *v = r;
    return 0;
}

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int mt_time_parse_xs(const char *s, apr_time_t *t)
{
    static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    long y, mo, d, h, mi, sec, usec = 0, zh = 0, zm = 0, zsign = 0;
    long days;
    int n;

    if (!s)
        return -1;
    while (apr_isspace(*s))
        s++;
    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-'
        || digits(&s, 2, &d) || *s++ != 'T' || digits(&s, 2, &h) || *s++ != ':'
        || digits(&s, 2, &mi) || *s++ != ':' || digits(&s, 2, &sec))
        return -1;
    if (*s == '.') {
        s++;
        if (!apr_isdigit(*s))
            return -1;
        for (n = 0; apr_isdigit(*s); s++, n++)
            if (n < 6)
                usec = usec * 10 + (*s - '0');
        for (; n < 6; n++)
            usec *= 10;
    }
    if (*s == 'Z') {
        s++;
    }
    else if (*s == '+' || *s == '-') {
        zsign = *s++ == '+' ? 1 : -1;
        if (digits(&s, 2, &zh) || *s++ != ':' || digits(&s, 2, &zm) || zh > 14 || zm > 59
            || (zh == 14 && zm != 0))
            return -1;
    }
    while (apr_isspace(*s))
        s++;
    if (*s)
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1
        || (unsigned long)d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    if (h == 24 && mi == 0 && sec == 0 && usec == 0) {
        /* 24:00:00 is midnight at the end of the day */
    }
    else if (h > 23 || mi > 59 || sec > 59) {
        return -1;
    }
    days = mt_time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *t = ((apr_time_t)days * 86400 + h * 3600 + mi * 60 + sec
          - zsign * (zh * 3600 + zm * 60)) * APR_USEC_PER_SEC + usec;
    return 0;
}

/* @a v (>= 0, fewer than @a n + 1 digits) in @a n digits at @a o; the end. */
static char *put_digits(char *o, long v, int n)
{
    int i;
    for (i = n - 1; i >= 0; i--, v /= 10)
        o[i] = (char)('0' + v % 10);
    return o + n;
}

const char *mt_time_format_xs(apr_pool_t *p, apr_time_t t)
{
    apr_time_t secs = t / APR_USEC_PER_SEC;
    long usec = (long)(t % APR_USEC_PER_SEC), days, rem, y;
    unsigned m, d;
    char frac[16] = "";

    if (usec < 0) {
        usec += APR_USEC_PER_SEC;
        secs -= 1;
    }
    days = (long)(secs / 86400);
    rem = (long)(secs % 86400);
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) {
        /* Every time in a report: the digits by hand, no format string. */
        char b[32], *o = b;
        long f;
        int i;
        o = put_digits(o, y, 4);
        *o++ = '-';
        o = put_digits(o, (long)m, 2);
        *o++ = '-';
        o = put_digits(o, (long)d, 2);
        *o++ = 'T';
        o = put_digits(o, rem / 3600, 2);
        *o++ = ':';
        o = put_digits(o, (rem / 60) % 60, 2);
        *o++ = ':';
        o = put_digits(o, rem % 60, 2);
        if (usec) {
            for (f = usec, i = 6; f % 10 == 0; f /= 10)
                i--;
            *o++ = '.';
            o = put_digits(o, f, i);
        }
        *o++ = 'Z';
        return apr_pstrmemdup(p, b, (apr_size_t)(o - b));
    }
    if (usec) {
        int i;
        apr_snprintf(frac, sizeof(frac), ".%06ld", usec);
        for (i = (int)strlen(frac) - 1; frac[i] == '0'; i--)
            frac[i] = '\0';
    }
    return apr_psprintf(p, "%04ld-%02u-%02uT%02ld:%02ld:%02ld%sZ", y, m, d,
                        rem / 3600, (rem / 60) % 60, rem % 60, frac);
}
