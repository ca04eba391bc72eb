/* The fake domain behind the control server (fake_domain.h). */
#include "fake_domain.h"

#include "testutil.h"

#include <string.h>

void fake_domain_init(struct fake_domain *f, uint32_t domid, const char *name, int64_t start)
{
	memset(f, 0, sizeof(*f));
	test_sample_ctl_info(&f->info, domid, name, start);
}

static int op_info(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	rep->u.info = ((struct fake_domain *)ctx)->info;
	rep->hdr.len = sizeof(rep->u.info);
	return 0;
}

static int op_pause(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	((struct fake_domain *)ctx)->info.state = 'p';
	return 0;
}

static int op_unpause(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	((struct fake_domain *)ctx)->info.state = 'b';
	return 0;
}

static int op_destroy(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	((struct fake_domain *)ctx)->destroyed = true;
	return 0;
}

static control_op_fn *const fns[CTL_TYPE_END] = {
	[CTL_INFO] = op_info,
	[CTL_PAUSE] = op_pause,
	[CTL_UNPAUSE] = op_unpause,
	[CTL_DESTROY] = op_destroy,
};
const struct control_ops fake_domain_ops = { fns, CTL_TYPE_END };
