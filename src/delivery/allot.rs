//! How one claim deals its free slots among the organizations and webhooks whose turn has
//! come: one at a time, to each organization in turn and, inside one, to its webhooks in turn.

use std::collections::{HashMap, VecDeque};

use uuid::Uuid;

use super::turns::InTurn;

/// How many more deliveries a webhook's lane and its organization's share can take now.
pub struct Room {
    pub webhook: usize,
    pub org: usize,
}

/// How many deliveries each webhook may take in one claim.
pub(super) struct Allotment {
    /// `(webhook id, share)`, shares above zero only.
    pub shares: Vec<(Uuid, usize)>,
    /// Some webhook read had no room, or places ran out before every webhook had its fill.
    pub left_behind: bool,
}

/// Deals `limit` places one at a time: to each organization in turn (in the order they were
/// read) and, inside one, to its webhooks in turn, longest waiting first; each webhook up to its
/// lane's room, each organization up to its share.
pub(super) fn allot(
    orgs: &[String],
    in_turn: Vec<InTurn>,
    limit: usize,
    room: impl Fn(&InTurn) -> Room,
) -> Allotment {
    struct Line {
        org_room: usize,
        webhooks: VecDeque<(Uuid, usize)>,
    }
    let mut lines: Vec<Line> = Vec::with_capacity(orgs.len());
    let mut by_org: HashMap<&str, Vec<InTurn>> = HashMap::new();
    for webhook in in_turn {
        let org = orgs.iter().find(|o| **o == webhook.org_id);
        if let Some(org) = org {
            by_org.entry(org.as_str()).or_default().push(webhook);
        }
    }
    let mut left_behind = false;
    for org in orgs {
        let Some(mut webhooks) = by_org.remove(org.as_str()) else {
            continue;
        };
        webhooks.sort_by(|a, b| (a.ready_at, &a.webhook_id).cmp(&(b.ready_at, &b.webhook_id)));
        let org_room = room(&webhooks[0]).org;
        let webhooks: VecDeque<(Uuid, usize)> = webhooks
            .iter()
            .filter_map(|w| {
                let webhook_room = room(w).webhook;
                left_behind |= webhook_room == 0;
                (webhook_room > 0).then_some((w.webhook_id, webhook_room))
            })
            .collect();
        left_behind |= org_room == 0;
        lines.push(Line { org_room, webhooks });
    }
    let mut shares: HashMap<Uuid, usize> = HashMap::new();
    let mut order = Vec::new();
    let mut dealt = 0;
    while dealt < limit {
        let mut gave = false;
        for line in &mut lines {
            if dealt >= limit {
                break;
            }
            if line.org_room == 0 {
                continue;
            }
            let Some((webhook, webhook_room)) = line.webhooks.pop_front() else {
                continue;
            };
            let share = shares.entry(webhook).or_insert_with(|| {
                order.push(webhook);
                0
            });
            *share += 1;
            line.org_room -= 1;
            dealt += 1;
            gave = true;
            if webhook_room > 1 {
                line.webhooks.push_back((webhook, webhook_room - 1));
            }
        }
        if !gave {
            break;
        }
    }
    left_behind |= dealt >= limit
        && lines
            .iter()
            .any(|l| l.org_room > 0 && !l.webhooks.is_empty());
    Allotment {
        shares: order
            .into_iter()
            .map(|w| {
                let share = shares[&w];
                (w, share)
            })
            .collect(),
        left_behind,
    }
}
