"""The records of one sub-buffer: walk a page's data area event by event,
as the kernel's reader and its validator of a persistent buffer do.

walk() never reads past the bytes it is given and never raises on garbage:
it stops at the first record that does not make sense and says why.  It
knows nothing of layouts or CPUs; the decoder (ringbuf.py) gives it where a
page's data starts, its commit and its time stamp, and rb_stock.py reads the
validator's view (entries, end_ts, backwards) of the same walk.
"""

import dataclasses
import struct
from typing import Optional

from rb_layout import (RB_ALIGNMENT, RINGBUF_TYPE_PADDING, RINGBUF_TYPE_TIME_EXTEND, RINGBUF_TYPE_TIME_STAMP,
                       TS_MSB, TS_SHIFT, U64, s32)


def _fix_abs_ts(abs_ts, save_ts):
    """rb_fix_abs_ts(): re-insert the 5 MSBs dropped from a 59-bit stamp."""
    if save_ts & TS_MSB:
        abs_ts |= save_ts & TS_MSB
        if abs_ts < save_ts:
            abs_ts = (abs_ts + (1 << 59)) & U64
    return abs_ts


@dataclasses.dataclass
class Walk:
    """What walk() found on one page."""
    ok: bool            # reached the tail exactly with well-formed records
    reason: Optional[str]
    good_bytes: int
    events: list        # [(record offset, reader time stamp)] of data events
    entries: int        # rb_read_data_buffer()'s count (data + non-trivial padding)
    end_ts: int         # rb_read_data_buffer()'s final time stamp
    backwards: bool     # an absolute time stamp went backwards (validator rejects)


def walk(b, data_off: int, tail: int, page_ts: int) -> Walk:
    """Walk the records of one page's data area up to ``tail`` bytes.

    Lengths follow rb_event_length(); the validator's view (entries, end_ts,
    backwards) follows rb_read_data_buffer(), which adds every delta including
    those of discarded (padding) events; the reader's time stamps follow
    rb_iter_peek()/rb_update_iter_read_stamp(), which ignore padding deltas and
    give a data event right after an absolute TIME_STAMP that stamp."""
    n = len(b)
    e = 0
    vts = page_ts           # validator's running stamp
    rts = page_ts           # reader's read_stamp
    pending = 0             # absolute stamp waiting for its data event
    group = None            # first record (extend/stamp) of the pending event
    events = []
    entries = 0
    backwards = False
    unpack = struct.unpack_from
    while e < tail:
        pos = data_off + e
        if pos + 4 > n:
            return Walk(False, "event at data+%d runs past the region" % e, e, events, entries, vts, backwards)
        word = unpack("<I", b, pos)[0]
        tl = word & 0x1F
        td = word >> 5
        if tl == 0 or tl >= RINGBUF_TYPE_PADDING:
            if pos + 8 > n:
                return Walk(False, "event at data+%d runs past the region" % e, e, events, entries, vts, backwards)
            a0 = unpack("<I", b, pos + 4)[0]
        else:
            a0 = 0
        if tl == RINGBUF_TYPE_PADDING:
            if td == 0:
                # rb_event_length() says -1 for a null event
                return Walk(False, "null padding event at data+%d inside the commit" % e,
                             e, events, entries, vts, backwards)
            length = s32(a0 + 4)
        elif tl >= RINGBUF_TYPE_TIME_EXTEND:
            length = 8
        elif tl == 0:
            length = s32(a0 + 4)
        else:
            length = tl * RB_ALIGNMENT + 4
        if length <= 0 or length > tail - e:
            return Walk(False, "event at data+%d (type_len %d) has length %d, %d bytes left before commit"
                         % (e, tl, length, tail - e), e, events, entries, vts, backwards)
        if tl == RINGBUF_TYPE_TIME_EXTEND:
            delta = (a0 << TS_SHIFT) + td
            vts = (vts + delta) & U64
            rts = (rts + delta) & U64
            if group is None:
                group = e
        elif tl == RINGBUF_TYPE_TIME_STAMP:
            stamp = (a0 << TS_SHIFT) + td
            fixed = _fix_abs_ts(stamp, vts)
            if fixed < vts:
                backwards = True
            vts = fixed
            pending = _fix_abs_ts(stamp, page_ts)
            rts = _fix_abs_ts(stamp, rts)
            if group is None:
                group = e
        elif tl == RINGBUF_TYPE_PADDING:
            # Discarded event (or end-of-page padding when time_delta == 1)
            if td != 1:
                entries += 1
                vts = (vts + td) & U64
            pending = 0
            group = None
        else:
            entries += 1
            vts = (vts + td) & U64
            ts = pending if pending else (rts + td) & U64
            rts = (rts + td) & U64
            events.append((group if group is not None else e, ts))
            pending = 0
            group = None
        e += length
    return Walk(True, None, e, events, entries, vts, backwards)
