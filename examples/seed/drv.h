/* A RAID driver, shaped like the one of the incident: it records who owns a
 * command in cmd->SCp.phase. */
#ifndef SEED_DRV_H
#define SEED_DRV_H

#include "scsi.h"

#define DRV_OWNER_MIDLEVEL 0x101
#define DRV_OWNER_LOWLEVEL 0x102
#define DRV_OWNER_ERROR_HANDLER 0x103
#define DRV_OWNER_FIRMWARE 0x106

struct drv_adapter {
    struct scsi_cmnd *fib_cmd; /* the command the firmware is working on */
};

void drv_queuecommand(struct drv_adapter *dev, struct scsi_cmnd *cmd);
void drv_intr_normal(struct drv_adapter *dev);
void drv_fib_complete(struct drv_adapter *dev);

#endif
