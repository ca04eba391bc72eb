/* One logging API for every domus program.
 *
 * Lines go to stderr (or a file chosen by the program's main) as
 *   prog[context]: message
 * Library code does not log; it returns -errno and its caller logs once.
 * Messages a guest can trigger go through log_guest(), which is rate-limited by
 * the caller's struct log_ratelimit so a hostile guest cannot flood the log. */
#ifndef DOMUS_LOG_H
#define DOMUS_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Set once by main() before any thread starts; read-only afterwards. */
void log_init(const char *prog, enum log_level max_level, FILE *out);
void log_set_level(enum log_level max_level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(ctx, ...) log_msg(LOG_ERR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_WARN, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(LOG_DEBUG, ctx, __VA_ARGS__)

/* At most `burst` lines per `interval` seconds; the rest are counted and the
 * count is reported with the next line that gets through. */
struct log_ratelimit {
	unsigned interval, burst;
	time_t window_start;
	unsigned printed, suppressed;
};
#define LOG_RATELIMIT_INIT(i, b) { .interval = (i), .burst = (b) }

void log_guest(struct log_ratelimit *rl, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
