//! An incremental parser for `text/event-stream` bodies (the WHATWG server-sent events format).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, if the server named the event.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// A line longer than this is not an event stream but something that went wrong.
const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    pending: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    seen_first_line: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event-stream line is longer than {MAX_LINE} bytes")]
pub(crate) struct LineTooLong;

impl SseParser {
    /// Feeds a chunk of the body; returns the events it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, LineTooLong> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        let mut index = 0;
        while index < self.pending.len() {
            let end_len = match self.pending[index] {
                b'\n' => 1,
                b'\r' => match self.pending.get(index + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    // A CR at the end of the chunk may be the first half of CRLF.
                    None => break,
                },
                _ => {
                    index += 1;
                    continue;
                }
            };
            let line = String::from_utf8_lossy(&self.pending[start..index]).into_owned();
            self.line(&line, &mut events);
            index += end_len;
            start = index;
        }
        self.pending.drain(..start);
        if self.pending.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        let line = if self.seen_first_line {
            line
        } else {
            self.seen_first_line = true;
            line.strip_prefix('\u{feff}').unwrap_or(line)
        };
        if line.is_empty() {
            let event = self.event.take();
            if let Some(mut data) = self.data.take() {
                if data.ends_with('\n') {
                    data.pop();
                }
                events.push(SseEvent { event, data });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                let data = self.data.get_or_insert_with(String::new);
                data.push_str(value);
                data.push('\n');
            }
            // `id` and `retry` matter only to browsers that reconnect.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn event(name: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn parses_named_events_comments_and_multiline_data() {
        let body = "\u{feff}: keep-alive\nevent: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata:{}\n\ndata: line one\ndata: line two\nid: 7\nretry: 100\n\ndata: [DONE]\n\n";
        let mut parser = SseParser::default();
        assert_eq!(
            parser.push(body.as_bytes()).unwrap(),
            vec![
                event(Some("message_start"), "{\"a\":1}"),
                event(Some("ping"), "{}"),
                event(None, "line one\nline two"),
                event(None, "[DONE]"),
            ]
        );
    }

    #[test]
    fn any_split_gives_the_same_events() {
        let body = "event: a\r\ndata: héllo wörld\r\n\r\nevent: b\rdata: x\r\rdata:\n\n";
        let expected = vec![
            event(Some("a"), "héllo wörld"),
            event(Some("b"), "x"),
            event(None, ""),
        ];
        let bytes = body.as_bytes();
        for split in 0..=bytes.len() {
            let mut parser = SseParser::default();
            let mut events = parser.push(&bytes[..split]).unwrap();
            events.extend(parser.push(&bytes[split..]).unwrap());
            assert_eq!(events, expected, "split at {split}");
        }
        let mut parser = SseParser::default();
        let events: Vec<SseEvent> = bytes
            .iter()
            .flat_map(|b| parser.push(std::slice::from_ref(b)).unwrap())
            .collect();
        assert_eq!(events, expected, "byte by byte");
    }

    #[test]
    fn unterminated_event_is_not_dispatched() {
        let mut parser = SseParser::default();
        assert_eq!(parser.push(b"data: half\n").unwrap(), vec![]);
        assert_eq!(
            parser.push(b"event: lonely\n\n").unwrap(),
            vec![event(Some("lonely"), "half")]
        );
        assert_eq!(parser.push(b"event: no-data\n\n").unwrap(), vec![]);
    }
}
