/**
 * @file mt_time.h
 * @brief Time handling: xs:dateTime in and out, all in UTC microseconds.
 */
#ifndef MT_TIME_H
#define MT_TIME_H

#include <apr_pools.h>
#include <apr_time.h>

/** Parse an xs:dateTime (years 0001-9999, optional fraction, optional zone:
 *  "Z" or +hh:mm/-hh:mm; without a zone the time is taken as UTC).
 *  Returns 0 and sets @a t (microseconds since the epoch, UTC), or -1.
 *  Fractions beyond microseconds are truncated. */
int mt_time_parse_xs(const char *s, apr_time_t *t);

/** Format @a t as xs:dateTime in UTC: "YYYY-MM-DDThh:mm:ss[.ffffff]Z";
 *  the fraction is written only when non-zero, without trailing zeros. */
const char *mt_time_format_xs(apr_pool_t *p, apr_time_t t);

/** Days since 1970-01-01 of a proleptic Gregorian date. */
long mt_time_days_from_civil(long y, unsigned m, unsigned d);

/** The value Exchange uses for "no time": 0001-01-01T00:00:00 UTC. */
#define MT_TIME_MIN ((apr_time_t)-62135596800LL * APR_USEC_PER_SEC)

#endif
