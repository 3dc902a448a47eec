/* The RAID driver.  Like the real one, it assigns the owner of a command to
 * cmd->SCp.phase in many places, and its firmware-completion path touches a
 * command it no longer owns: the command was completed (and freed with its
 * request) by the interrupt path first. */
#include "drv.h"

void drv_queuecommand(struct drv_adapter *dev, struct scsi_cmnd *cmd)
{
    cmd->SCp.phase = DRV_OWNER_LOWLEVEL;
    dev->fib_cmd = cmd; /* kept for the firmware's completion */
    cmd->SCp.phase = DRV_OWNER_FIRMWARE;
}

static void drv_error_handler(struct scsi_cmnd *cmd)
{
    cmd->SCp.phase = DRV_OWNER_ERROR_HANDLER;
}

/* Normal completion from the interrupt: back to the midlayer, which frees
 * the request and its command. */
void drv_intr_normal(struct drv_adapter *dev)
{
    struct scsi_cmnd *cmd = dev->fib_cmd;
    if (cmd->result)
        drv_error_handler(cmd);
    cmd->SCp.phase = DRV_OWNER_MIDLEVEL;
    cmd->scsi_done(cmd);
}

/* The firmware's late completion of the same command: the bug.  The
 * command was already completed and freed; this writes into freed memory. */
void drv_fib_complete(struct drv_adapter *dev)
{
    struct scsi_cmnd *cmd = dev->fib_cmd;
    cmd->SCp.phase = DRV_OWNER_FIRMWARE;
}
