/**
 * Today as a UTC day, by the database's clock: what `current_date` would be if the
 * session's time zone were UTC. Run dates are UTC days (the CLI's default date is today in
 * UTC), so every "what day is it" a job's SQL asks must be too: `current_date` follows the
 * session's time zone, a day ahead in Kiritimati from 10:00 UTC, and in Berlin from 23:00.
 */
export const UTC_TODAY = `(now() at time zone 'UTC')::date`;
