/*
 * Just enough of the PC keyboard controller for "reboot=k": the guest's
 * reset command (0xfe to port 0x64) ends the VM.
 */
#ifndef HUSK_ARCH_I8042_H
#define HUSK_ARCH_I8042_H

#include "devices/iobus.h"

#define I8042_BASE  0x60
#define I8042_PORTS 5 /* 0x60 data .. 0x64 command/status */

struct i8042 {
	void (*reset)(void *ctx);
	void *ctx;
};

extern const struct io_device_ops i8042_io_ops;

#endif
