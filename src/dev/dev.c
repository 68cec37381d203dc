/* Device-generic helpers: everything else goes through the vtable. */
#include <synack/dev.h>

void synack_dev_destroy(synack_dev *d)
{
    if (d && d->ops && d->ops->destroy)
        d->ops->destroy(d);
}
