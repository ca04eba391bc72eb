/* The one logging implementation (see domus/log.h). */
#include "domus/log.h"

#include <string.h>

/* Written once by main() through log_init() before threads exist. */
static struct {
	const char *prog;
	enum log_level max;
	FILE *out;
} log_cfg = { "domus", LOG_INFO, NULL };

static const char *const level_tag[] = {
	[LOG_ERR] = "error: ", [LOG_WARN] = "warning: ", [LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
};

void log_init(const char *prog, enum log_level max_level, FILE *out)
{
	const char *slash = strrchr(prog, '/');

	log_cfg.prog = slash ? slash + 1 : prog;
	log_cfg.max = max_level;
	log_cfg.out = out;
}

void log_set_level(enum log_level max_level)
{
	log_cfg.max = max_level;
}

enum log_level log_get_level(void)
{
	return log_cfg.max;
}

void log_vmsg(enum log_level level, const char *ctx, const char *fmt, va_list ap)
{
	FILE *out = log_cfg.out ? log_cfg.out : stderr;
	char line[1024];
	int n;

	if (level > log_cfg.max)
		return;
	/* One write per line so lines from threads and processes do not interleave. */
	if (ctx && *ctx)
		n = snprintf(line, sizeof(line), "%s[%s]: %s", log_cfg.prog, ctx, level_tag[level]);
	else
		n = snprintf(line, sizeof(line), "%s: %s", log_cfg.prog, level_tag[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(out, "%s\n", line);
	fflush(out);
}

void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, ctx, fmt, ap);
	va_end(ap);
}

void log_guest(struct log_ratelimit *rl, const char *ctx, const char *fmt, ...)
{
	time_t now = time(NULL);
	va_list ap;

	if (now - rl->window_start >= (time_t)rl->interval) {
		if (rl->suppressed)
			log_msg(LOG_WARN, ctx, "%u guest-triggered messages suppressed", rl->suppressed);
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	log_vmsg(LOG_WARN, ctx, fmt, ap);
	va_end(ap);
}
