/* Block and SCSI midlayer: requests come from kmalloc-1024 (malloc(1024)),
 * the command lives behind the request, completion frees both at once. */
#include <stdlib.h>
#include <string.h>

#include "scsi.h"

struct request *alloc_request(void)
{
    struct request *rq = malloc(REQUEST_ALLOC_SIZE);
    if (!rq)
        return NULL;
    memset(rq, 0, sizeof(*rq) + sizeof(struct scsi_cmnd));
    rq->queuelist.next = rq->queuelist.prev = &rq->queuelist;
    struct scsi_cmnd *cmd = blk_mq_rq_to_pdu(rq);
    cmd->request = rq;
    cmd->scsi_done = scsi_done;
    cmd->sense_buffer = (unsigned char *)(cmd + 1);
    return rq;
}

void put_request(struct request *rq)
{
    free(rq);
}

void scsi_end_request(struct scsi_cmnd *cmd)
{
    put_request(cmd->request);
}

void scsi_done(struct scsi_cmnd *cmd)
{
    scsi_end_request(cmd);
}
