#include "devices/devmgr.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

void devmgr_init(struct devmgr *dm, struct vm *vm, struct event_loop *el)
{
	memset(dm, 0, sizeof(*dm));
	dm->vm = vm;
	dm->el = el;
}

static void devmgr_raise_irq(void *ctx)
{
	struct devmgr_slot *s = ctx;
	uint64_t one = 1;
	if (write(s->irqfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, an interrupt is pending anyway */
	}
}

static void devmgr_on_notify(void *ctx, uint32_t events)
{
	struct devmgr_notify *n = ctx;
	uint64_t v;
	(void)events;
	if (read(n->fd, &v, sizeof(v)) == sizeof(v))
		virtio_mmio_notify(n->slot->t, n->queue);
}

static int devmgr_wire(struct devmgr *dm, struct devmgr_slot *s, unsigned nqueues)
{
	s->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irqfd < 0)
		return -errno;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)s->irqfd, .gsi = s->irq };
	if (ioctl(dm->vm->fd, KVM_IRQFD, &irqfd) < 0) {
		int e = -errno;
		log_err("devices", "KVM_IRQFD for IRQ %u: %s", s->irq, strerror(errno));
		return e;
	}
	for (unsigned q = 0; q < nqueues; q++) {
		struct devmgr_notify *n = &s->notify[q];
		n->slot = s;
		n->queue = q;
		n->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->fd < 0)
			return -errno;
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = s->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = n->fd,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(dm->vm->fd, KVM_IOEVENTFD, &io) < 0) {
			int e = -errno;
			log_err("devices", "KVM_IOEVENTFD at %#llx: %s",
				(unsigned long long)io.addr, strerror(errno));
			return e;
		}
		int r = el_add(dm->el, n->fd, EPOLLIN, devmgr_on_notify, n);
		if (r < 0)
			return r;
	}
	return 0;
}

int devmgr_add(struct devmgr *dm, struct virtio_mmio *t, const struct virtio_device_ops *ops,
	       void *dev)
{
	if (dm->n >= DEVMGR_MAX_DEVICES || DEVMGR_FIRST_IRQ + dm->n > DEVMGR_LAST_IRQ) {
		log_err("devices", "no window or IRQ left for %s", ops->name);
		return -ENOSPC;
	}
	struct devmgr_slot *s = &dm->slots[dm->n];
	memset(s, 0, sizeof(*s));
	s->irqfd = -1;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		s->notify[q].fd = -1;
	s->base = ARCH_MMIO_START + dm->n * DEVMGR_WINDOW;
	s->irq = DEVMGR_FIRST_IRQ + dm->n;

	int r = virtio_mmio_init(t, &dm->vm->mem, ops, dev, devmgr_raise_irq, s);
	if (r < 0)
		return r;
	s->t = t;
	dm->n++;
	r = devmgr_wire(dm, s, ops->num_queues);
	if (r < 0)
		log_err("devices", "cannot wire %s: %s", ops->name, strerror(-r));
	return r;
}

bool devmgr_mmio(struct devmgr *dm, uint64_t addr, bool is_write, uint8_t *data, unsigned len)
{
	for (unsigned i = 0; i < dm->n; i++) {
		struct devmgr_slot *s = &dm->slots[i];
		if (addr < s->base || addr - s->base >= DEVMGR_WINDOW)
			continue;
		uint64_t off = addr - s->base;
		if (off >= VIRTIO_MMIO_WINDOW) {
			if (!is_write)
				memset(data, 0, len);
		} else if (is_write) {
			virtio_mmio_write(s->t, off, data, len);
		} else {
			virtio_mmio_read(s->t, off, data, len);
		}
		return true;
	}
	return false;
}

unsigned devmgr_irq_end(const struct devmgr *dm)
{
	unsigned end = 0;
	for (unsigned i = 0; i < dm->n; i++)
		if (dm->slots[i].irq >= end)
			end = dm->slots[i].irq + 1;
	return end;
}

int devmgr_cmdline(const struct devmgr *dm, struct cmdline *c)
{
	for (unsigned i = 0; i < dm->n; i++) {
		int r = cmdline_appendf(c, "virtio_mmio.device=4K@0x%llx:%u",
					(unsigned long long)dm->slots[i].base, dm->slots[i].irq);
		if (r < 0)
			return r;
	}
	return 0;
}

/* After the vCPUs and the event loop have stopped. */
void devmgr_destroy(struct devmgr *dm)
{
	for (unsigned i = 0; i < dm->n; i++) {
		struct devmgr_slot *s = &dm->slots[i];
		if (s->t)
			virtio_mmio_destroy(s->t);
		for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
			if (s->notify[q].fd >= 0)
				close(s->notify[q].fd);
		if (s->irqfd >= 0)
			close(s->irqfd);
	}
	dm->n = 0;
}
