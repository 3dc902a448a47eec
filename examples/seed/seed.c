/*
 * The seed incident, re-enacted in user space.
 *
 * A RAID driver keeps a pointer to a SCSI command, the command is completed
 * and freed together with its block request (one 1 KiB object), and the
 * driver's late firmware completion then writes DRV_OWNER_FIRMWARE (0x106)
 * into the freed command's SCp.phase: object offset 0x148 + 0x180 = 0x2c8.
 * The network stack gets the same 1 KiB object for a packet buffer, whose
 * shared info has frag_list at offset 0x2c8, follows it, and faults at
 * address 0x106 -- far from the driver that did it.
 *
 *   ./seed                          crashes at 0x106, like the production host
 *   SLABDBG=FZPU slabdbg run ./seed  "Poison overwritten" with both stacks
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "drv.h"
#include "net.h"

/* Say where the fault was, as the kernel's oops did, then die of it. */
static void oops(int sig, siginfo_t *si, void *ctx)
{
    unsigned long long ip = 0;
#ifdef REG_RIP
    ip = (unsigned long long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
#else
    (void)ctx;
#endif
    char msg[160];
    int n = snprintf(msg, sizeof(msg),
                     "BUG: unable to handle page fault for address %016lx\nRIP: %016llx\n",
                     (unsigned long)si->si_addr, ip);
    if (write(2, msg, (size_t)n) < 0)
        _exit(128 + sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

static struct request *submit_io(void)
{
    struct request *rq = alloc_request();
    printf("block: request %p, its command at %p (+0x%zx)\n", (void *)rq,
           (void *)blk_mq_rq_to_pdu(rq), sizeof(struct request));
    return rq;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = oops;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    struct drv_adapter adapter = {0};

    struct request *rq = submit_io();
    drv_queuecommand(&adapter, blk_mq_rq_to_pdu(rq));
    printf("driver: command queued to the firmware\n");

    drv_intr_normal(&adapter);
    printf("midlayer: command completed, request freed\n");

    drv_fib_complete(&adapter);
    printf("driver: firmware completion wrote 0x%x into the command (freed)\n", DRV_OWNER_FIRMWARE);

    struct sk_buff *skb = alloc_skb(600);
    printf("net: packet buffer %p, frag_list at +0x2c8 = %p\n", (void *)skb->head,
           (void *)skb_shinfo(skb)->frag_list);
    napi_consume_skb(skb);
    printf("net: packet released\n");
    return 0;
}
