#include "devices/iobus.h"

#include <errno.h>
#include <string.h>

int iobus_register(struct iobus *b, uint16_t base, uint16_t len, const struct io_device_ops *ops,
		   void *dev)
{
	if (b->n >= IOBUS_MAX || len == 0 || (uint32_t)base + len > 0x10000)
		return -EINVAL;
	for (unsigned i = 0; i < b->n; i++)
		if (base < b->r[i].base + b->r[i].len && b->r[i].base < base + len)
			return -EBUSY;
	b->r[b->n].base = base;
	b->r[b->n].len = len;
	b->r[b->n].ops = ops;
	b->r[b->n].dev = dev;
	b->n++;
	return 0;
}

void iobus_access(const struct iobus *b, uint16_t port, bool is_write, uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < b->n; i++) {
		if (port < b->r[i].base || port - b->r[i].base >= b->r[i].len)
			continue;
		uint16_t off = (uint16_t)(port - b->r[i].base);
		if (is_write)
			b->r[i].ops->write(b->r[i].dev, off, data, size);
		else
			b->r[i].ops->read(b->r[i].dev, off, data, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}
