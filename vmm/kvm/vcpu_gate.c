/* The vCPUs' pause gate (see vcpu_gate.h). */
#include "kvm/vcpu_gate.h"

#include <errno.h>
#include <time.h>

#include "husk/deadline.h"
#include "kvm/vcpu.h"

void vcpu_gate_init(struct vcpu_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->closed = false;
	g->parked = 0;
}

void vcpu_gate_destroy(struct vcpu_gate *g)
{
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
}

int vcpu_gate_close(struct vcpu_gate *g, struct vcpu *vcpus, unsigned n, int timeout_ms)
{
	unsigned started = 0;

	pthread_mutex_lock(&g->lock);
	if (g->closed) {
		pthread_mutex_unlock(&g->lock);
		return -EALREADY;
	}
	g->closed = true; /* before the kicks: a vCPU that leaves KVM_RUN parks */
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < n; i++)
		if (vcpus[i].started) {
			vcpu_kick(&vcpus[i]);
			started++;
		}
	struct timespec until = deadline_after_ms(timeout_ms);
	int r = 0;
	pthread_mutex_lock(&g->lock);
	while (g->parked < started && r == 0)
		r = pthread_cond_timedwait(&g->cond, &g->lock, &until);
	if (g->parked < started) {
		g->closed = false; /* not paused after all: let the others run on */
		pthread_cond_broadcast(&g->cond);
		r = -ETIMEDOUT;
	} else {
		r = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

int vcpu_gate_open(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	bool was = g->closed;
	g->closed = false;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return was ? 0 : -EALREADY;
}

bool vcpu_gate_is_closed(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	bool closed = g->closed;
	pthread_mutex_unlock(&g->lock);
	return closed;
}

bool vcpu_gate_pass(struct vcpu_gate *g, const volatile int *stopping, bool (*settle)(void *arg),
		    void *arg)
{
	pthread_mutex_lock(&g->lock);
	if (g->closed && !*stopping) {
		pthread_mutex_unlock(&g->lock);
		if (!settle(arg))
			return false;
		pthread_mutex_lock(&g->lock);
	}
	/* the gate may have opened while settling: then run on */
	if (g->closed && !*stopping) {
		g->parked++;
		pthread_cond_broadcast(&g->cond); /* the closer counts us */
		while (g->closed && !*stopping)
			pthread_cond_wait(&g->cond, &g->lock);
		g->parked--;
	}
	pthread_mutex_unlock(&g->lock);
	return true;
}

void vcpu_gate_wake(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}
