/*
 * The device manager: hands each virtio-mmio device an MMIO window and an
 * IRQ from one allocator, wires its interrupt to a KVM irqfd and each of
 * its queue notifications to a KVM ioeventfd served by the event loop, and
 * writes the virtio_mmio.device= entries of the kernel command line.
 */
#ifndef HUSK_DEVICES_DEVMGR_H
#define HUSK_DEVICES_DEVMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arch.h"
#include "boot/cmdline.h"
#include "event_loop.h"
#include "kvm/kvm.h"
#include "virtio/mmio.h"

#define DEVMGR_MAX_DEVICES 16
#define DEVMGR_WINDOW	   0x1000ULL
#define DEVMGR_FIRST_IRQ   ARCH_DEVICE_IRQ_FIRST
#define DEVMGR_LAST_IRQ	   ARCH_DEVICE_IRQ_LAST

struct devmgr_slot;

struct devmgr_notify {
	struct devmgr_slot *slot;
	unsigned queue;
	int fd;
};

struct devmgr_slot {
	struct virtio_mmio *t;
	uint64_t base;
	unsigned irq;
	int irqfd;
	struct devmgr_notify notify[VIRTIO_MMIO_MAX_QUEUES];
};

struct devmgr {
	struct vm *vm;
	struct event_loop *el;
	unsigned n;
	struct devmgr_slot slots[DEVMGR_MAX_DEVICES];
};

void devmgr_init(struct devmgr *dm, struct vm *vm, struct event_loop *el);

/*
 * Set up transport t for a device (ops, dev) and give it a window and an
 * IRQ. The transport must stay where it is until devmgr_destroy().
 */
int devmgr_add(struct devmgr *dm, struct virtio_mmio *t, const struct virtio_device_ops *ops,
	       void *dev);

/* An MMIO exit: true if a device window took it. */
bool devmgr_mmio(struct devmgr *dm, uint64_t addr, bool is_write, uint8_t *data, unsigned len);

/* One past the highest IRQ a device has, 0 if there is none. */
unsigned devmgr_irq_end(const struct devmgr *dm);

/* Append "virtio_mmio.device=4K@ADDR:IRQ" for every device. */
int devmgr_cmdline(const struct devmgr *dm, struct cmdline *c);

void devmgr_destroy(struct devmgr *dm);

/*
 * Snapshots (devmgr_state.c). A slot's identity is its virtio device id,
 * window, IRQ and the config space bytes its device shows the guest; save
 * writes every slot's identity and transport state (virtio_mmio_save) as
 * one malloc'd blob. restore: into devices just added, before any vCPU
 * runs; a blob of another layout (count, ids, windows, IRQs, config bytes)
 * is refused naming the first slot that differs (-EINVAL, logged), then
 * every transport is restored in slot order. layout_hash: a 64-bit hash
 * of the identities, for a snapshot's header.
 */
int devmgr_save(struct devmgr *dm, void **blob, size_t *len);
int devmgr_restore(struct devmgr *dm, const void *blob, size_t len);
uint64_t devmgr_layout_hash(const struct devmgr *dm);

#endif
