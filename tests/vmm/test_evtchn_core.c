/* vmm/xenstate/evtchn_core.c: the port table's rules without KVM, with the
 * Xen errno values the guest sees (xen-guest-abi.md §4). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "xenstate/evtchn_core.h"

#define DOMID 7

static int setup(void **state)
{
	struct evtchn_core *c = malloc(sizeof(*c));

	if (!c)
		return -1;
	evtchn_core_init(c, DOMID, 2);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_virq(void **state)
{
	struct evtchn_core *c = *state;
	uint32_t port = 0, vcpu = 9;

	assert_int_equal(evtchn_core_bind_virq(c, NR_VIRQS, 0, &port), -EINVAL);
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 2, &port), -EINVAL);
	/* A global VIRQ binds on vCPU 0 only; a per-vCPU one on any. */
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_CONSOLE, 1, &port), -EINVAL);
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 0, &port), 0);
	assert_int_equal(port, 1); /* port 0 is never given out */
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 1, &port), 0);
	assert_int_equal(port, 2);
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 1, &port), -EEXIST);
	assert_int_equal(evtchn_core_bound_vcpu(c, 2, &vcpu), 0);
	assert_int_equal(vcpu, 1);
	assert_int_equal(c->ports[2].state, EVTCHNSTAT_virq);
	assert_int_equal(c->ports[2].virq, VIRQ_TIMER);
}

static void test_ipi_unbound_interdomain(void **state)
{
	struct evtchn_core *c = *state;
	uint32_t port = 0;

	assert_int_equal(evtchn_core_bind_ipi(c, 2, &port), -ENOENT);
	assert_int_equal(evtchn_core_bind_ipi(c, 1, &port), 0);
	assert_int_equal(port, 1);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID + 1, 0, &port), -EPERM);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 0, &port), 0);
	assert_int_equal(port, 2);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID, 3, &port), 0);
	assert_int_equal(port, 3);
	assert_int_equal(c->ports[3].remote_dom, 3);
	assert_int_equal(evtchn_core_alloc_interdomain(c, 0, &port), 0);
	assert_int_equal(port, 4);
	assert_int_equal(c->ports[4].state, EVTCHNSTAT_interdomain);
}

/* A back end binds the frontend's unbound port and lets go of it
 * (blkback's bind_interdomain, then Xen's evtchn_close on Domain 0's end). */
static void test_bind_remote(void **state)
{
	struct evtchn_core *c = *state;
	uint32_t ipi, mine, other, idom;
	struct evtchn_port was;

	assert_int_equal(evtchn_core_bind_ipi(c, 0, &ipi), 0);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 0, &mine), 0);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 3, &other), 0);
	assert_int_equal(evtchn_core_alloc_interdomain(c, 0, &idom), 0);
	/* only an unbound port offered to Domain 0 */
	assert_int_equal(evtchn_core_bind_remote(c, 0, 0), -EINVAL);
	assert_int_equal(evtchn_core_bind_remote(c, EVTCHN_NR_PORTS, 0), -EINVAL);
	assert_int_equal(evtchn_core_bind_remote(c, 100, 0), -EINVAL); /* closed */
	assert_int_equal(evtchn_core_bind_remote(c, ipi, 0), -EINVAL);
	assert_int_equal(evtchn_core_bind_remote(c, other, 0), -EINVAL);
	assert_int_equal(evtchn_core_bind_remote(c, idom, 0), -EINVAL); /* already bound */
	assert_int_equal(evtchn_core_bind_remote(c, mine, 0), 0);
	assert_int_equal(c->ports[mine].state, EVTCHNSTAT_interdomain);
	assert_int_equal(c->ports[mine].remote_dom, 0);
	assert_int_equal(evtchn_core_bind_remote(c, mine, 0), -EINVAL); /* twice */
	/* unbind: back to unbound for Domain 0, bindable again */
	assert_int_equal(evtchn_core_unbind_remote(c, other, 0), -EINVAL);
	assert_int_equal(evtchn_core_unbind_remote(c, ipi, 0), -EINVAL);
	assert_int_equal(evtchn_core_unbind_remote(c, mine, 3), -EINVAL);
	assert_int_equal(evtchn_core_unbind_remote(c, mine, 0), 0);
	assert_int_equal(c->ports[mine].state, EVTCHNSTAT_unbound);
	assert_int_equal(c->ports[mine].remote_dom, 0);
	assert_int_equal(evtchn_core_unbind_remote(c, mine, 0), -EINVAL);
	assert_int_equal(evtchn_core_bind_remote(c, mine, 0), 0);
	/* the guest closed it meanwhile: nothing to unbind */
	assert_int_equal(evtchn_core_close(c, mine, &was), 0);
	assert_int_equal(evtchn_core_unbind_remote(c, mine, 0), -EINVAL);
}

static void test_send(void **state)
{
	struct evtchn_core *c = *state;
	struct evtchn_port p;
	uint32_t virq, ipi, unbound, idom;

	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_DEBUG, 0, &virq), 0);
	assert_int_equal(evtchn_core_bind_ipi(c, 1, &ipi), 0);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 0, &unbound), 0);
	assert_int_equal(evtchn_core_alloc_interdomain(c, 0, &idom), 0);
	assert_int_equal(evtchn_core_send(c, virq, &p), -EINVAL); /* Xen raises VIRQs */
	assert_int_equal(evtchn_core_send(c, 0, &p), -EINVAL);
	assert_int_equal(evtchn_core_send(c, 100, &p), -EINVAL);
	assert_int_equal(evtchn_core_send(c, EVTCHN_NR_PORTS, &p), -EINVAL);
	assert_int_equal(evtchn_core_send(c, ipi, &p), 0);
	assert_int_equal(p.state, EVTCHNSTAT_ipi);
	assert_int_equal(p.vcpu, 1);
	assert_int_equal(evtchn_core_send(c, unbound, &p), 0);
	assert_int_equal(evtchn_core_send(c, idom, &p), 0);
	assert_int_equal(p.state, EVTCHNSTAT_interdomain);
}

static void test_status(void **state)
{
	struct evtchn_core *c = *state;
	struct evtchn_status s = { .dom = DOMID_SELF };
	uint32_t port;

	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_CONSOLE, 0, &port), 0);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 5, &port), 0);
	s.port = 0;
	assert_int_equal(evtchn_core_status(c, &s), -EINVAL);
	s.port = EVTCHN_NR_PORTS;
	assert_int_equal(evtchn_core_status(c, &s), -EINVAL);
	s.port = 1;
	s.dom = DOMID + 1;
	assert_int_equal(evtchn_core_status(c, &s), -ESRCH);
	s.dom = DOMID;
	assert_int_equal(evtchn_core_status(c, &s), 0);
	assert_int_equal(s.status, EVTCHNSTAT_virq);
	assert_int_equal(s.u.virq, VIRQ_CONSOLE);
	s.port = 2;
	assert_int_equal(evtchn_core_status(c, &s), 0);
	assert_int_equal(s.status, EVTCHNSTAT_unbound);
	assert_int_equal(s.u.unbound.dom, 5);
	s.port = 3; /* closed, but in range */
	assert_int_equal(evtchn_core_status(c, &s), 0);
	assert_int_equal(s.status, EVTCHNSTAT_closed);
}

static void test_bind_vcpu(void **state)
{
	struct evtchn_core *c = *state;
	uint32_t timer, console, ipi, unbound;

	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 0, &timer), 0);
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_CONSOLE, 0, &console), 0);
	assert_int_equal(evtchn_core_bind_ipi(c, 0, &ipi), 0);
	assert_int_equal(evtchn_core_alloc_unbound(c, DOMID_SELF, 0, &unbound), 0);
	assert_int_equal(evtchn_core_bind_vcpu(c, unbound, 2), -ENOENT);
	assert_int_equal(evtchn_core_bind_vcpu(c, 99, 1), -EINVAL);
	assert_int_equal(evtchn_core_bind_vcpu(c, timer, 1), -EINVAL);
	assert_int_equal(evtchn_core_bind_vcpu(c, ipi, 1), -EINVAL);
	assert_int_equal(evtchn_core_bind_vcpu(c, console, 1), 0);
	assert_int_equal(c->ports[console].vcpu, 1);
	assert_int_equal(evtchn_core_bind_vcpu(c, unbound, 1), 0);
	assert_int_equal(c->ports[ipi].vcpu, 0);
}

static void test_close_and_full(void **state)
{
	struct evtchn_core *c = *state;
	struct evtchn_port was;
	uint32_t port;

	for (uint32_t i = 1; i < EVTCHN_NR_PORTS; i++) {
		assert_int_equal(evtchn_core_bind_ipi(c, 0, &port), 0);
		assert_int_equal(port, i);
	}
	assert_int_equal(evtchn_core_bind_ipi(c, 0, &port), -ENOSPC);
	assert_int_equal(evtchn_core_close(c, 0, &was), -EINVAL);
	assert_int_equal(evtchn_core_close(c, 77, &was), 0);
	assert_int_equal(was.state, EVTCHNSTAT_ipi);
	assert_int_equal(evtchn_core_close(c, 77, &was), -EINVAL);
	assert_null(evtchn_core_port(c, 77));
	assert_int_equal(evtchn_core_alloc_interdomain(c, 0, &port), 0);
	assert_int_equal(port, 77); /* the lowest closed port is reused */
}

static void test_restore_rules(void **state)
{
	struct evtchn_core *c = *state;
	const char *why;
	uint32_t port;
	struct evtchn_port ok = { .state = EVTCHNSTAT_virq, .virq = VIRQ_TIMER, .vcpu = 1 };
	const struct {
		uint32_t port;
		struct evtchn_port p;
	} bad[] = {
		{ 0, { .state = EVTCHNSTAT_ipi } },
		{ EVTCHN_NR_PORTS, { .state = EVTCHNSTAT_ipi } },
		{ 5, ok },                                      /* listed twice */
		{ 6, { .state = EVTCHNSTAT_closed } },
		{ 6, { .state = EVTCHNSTAT_pirq } },
		{ 6, { .state = 99 } },
		{ 6, { .state = EVTCHNSTAT_ipi, .vcpu = 2 } },
		{ 6, { .state = EVTCHNSTAT_virq, .virq = VIRQ_TIMER, .vcpu = 1 } }, /* bound twice */
		{ 6, { .state = EVTCHNSTAT_virq, .virq = NR_VIRQS } },
		{ 6, { .state = EVTCHNSTAT_ipi, .virq = 1 } },
		{ 6, { .state = EVTCHNSTAT_unbound, .remote_port = 3 } },
		{ 6, { .state = EVTCHNSTAT_ipi, .remote_dom = 3 } },
	};

	assert_int_equal(evtchn_core_restore_port(c, 5, &ok, &why), 0);
	assert_null(why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(evtchn_core_restore_port(c, bad[i].port, &bad[i].p, &why), -EINVAL);
		assert_non_null(why);
	}
	assert_null(evtchn_core_port(c, 6));
	/* bind_vcpu moves a global VIRQ anywhere, and a second binding may
	 * follow on vCPU 0: a saved table can hold both. */
	assert_int_equal(evtchn_core_restore_port(c, 6, &(struct evtchn_port){ .state = EVTCHNSTAT_virq, .virq = VIRQ_CONSOLE, .vcpu = 1 }, &why), 0);
	assert_int_equal(evtchn_core_restore_port(c, 7, &(struct evtchn_port){ .state = EVTCHNSTAT_virq, .virq = VIRQ_CONSOLE, .vcpu = 1 }, &why), 0);
	assert_int_equal(evtchn_core_close(c, 6, &(struct evtchn_port){ 0 }), 0);
	assert_int_equal(evtchn_core_close(c, 7, &(struct evtchn_port){ 0 }), 0);
	/* A restored table follows the same rules as a bound one. */
	assert_int_equal(evtchn_core_bind_virq(c, VIRQ_TIMER, 1, &port), -EEXIST);
	assert_int_equal(evtchn_core_bind_ipi(c, 0, &port), 0);
	assert_int_equal(port, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_virq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipi_unbound_interdomain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_and_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
