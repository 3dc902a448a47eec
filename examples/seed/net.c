/* The network stack: packet buffers of 1 KiB with the shared info at their
 * end, whose frag_list sits at offset 0x2c8, the offset the driver stomps. */
#include <stdlib.h>
#include <string.h>

#include "net.h"

struct sk_buff *alloc_skb(unsigned int len)
{
    struct sk_buff *skb = calloc(1, sizeof(*skb));
    if (!skb)
        return NULL;
    /* The head comes from kmalloc-1024, like the request did. */
    skb->head = malloc(SKB_DATA_SIZE);
    if (!skb->head) {
        free(skb);
        return NULL;
    }
    skb->len = len;
    memset(skb->head, 0xee, len); /* packet data */
    struct skb_shared_info *sh = skb_shinfo(skb);
    sh->nr_frags = 0;
    sh->gso_size = 0;
    /* frag_list is left as found: the code relies on fresh buffers having
     * none, which holds as long as nobody writes into freed memory. */
    return skb;
}

static void kfree_skb_list(struct sk_buff *segs)
{
    while (segs) {
        struct sk_buff *next = segs->next; /* faults when segs is 0x106 */
        free(segs->head);
        free(segs);
        segs = next;
    }
}

void skb_release_data(struct sk_buff *skb)
{
    struct skb_shared_info *sh = skb_shinfo(skb);
    if (sh->frag_list)
        kfree_skb_list(sh->frag_list);
    free(skb->head);
}

void napi_consume_skb(struct sk_buff *skb)
{
    skb_release_data(skb);
    free(skb);
}
