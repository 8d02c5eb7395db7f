//! Outgoing mail. `Mailer` sends through one transport chosen by config: `smtp`
//! (production), `file` (`.eml` files, the `cargo run` default), `log`, or `memory` (tests
//! read what was sent). Mail is only ever sent by the job worker, never inline by a handler.

pub mod templates;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailSettings, MailTransportKind};
pub use templates::{DigestItem, Email, Rendered};

/// A message as recorded by the in-memory transport.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Log,
    Memory(Arc<Mutex<Vec<SentMail>>>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// Builds the configured transport. Must run inside the Tokio runtime (the SMTP pool
    /// spawns onto it).
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse().map_err(|e| anyhow::anyhow!("mail.from is not a mailbox: {e}"))?;
        let transport = match settings.transport {
            MailTransportKind::Smtp => {
                let tls = TlsParameters::new(settings.smtp_host.clone())?;
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.smtp_host)
                    .port(settings.smtp_port)
                    .tls(Tls::Opportunistic(tls))
                    .timeout(Some(Duration::from_secs(15)));
                if let Some(user) = settings.smtp_user.as_ref().filter(|u| !u.is_empty()) {
                    let password =
                        settings.smtp_password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                Transport::Smtp(builder.build())
            }
            MailTransportKind::File => {
                std::fs::create_dir_all(&settings.file_dir)?;
                Transport::File(AsyncFileTransport::new(&settings.file_dir))
            }
            MailTransportKind::Log => Transport::Log,
            MailTransportKind::Memory => Transport::Memory(Arc::default()),
        };
        Ok(Self { transport, from })
    }

    /// Renders and sends one email.
    pub async fn send(&self, to: &str, email: &Email) -> anyhow::Result<()> {
        let rendered = email.render().map_err(|e| anyhow::anyhow!("rendering the {} email: {e}", email.kind()))?;
        let to_box: Mailbox = to.parse().map_err(|e| anyhow::anyhow!("bad recipient {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(rendered.subject.clone())
            .multipart(MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone()))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::File(file) => {
                file.send(message).await?;
            }
            Transport::Log => {
                tracing::info!(to, kind = email.kind(), subject = %rendered.subject, "mail (log transport)");
            }
            Transport::Memory(sent) => {
                let mut sent = sent.lock().map_err(|_| anyhow::anyhow!("mail store poisoned"))?;
                sent.push(SentMail {
                    to: to.to_owned(),
                    kind: email.kind().to_owned(),
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                });
            }
        }
        Ok(())
    }

    /// What the in-memory transport has sent (empty for other transports).
    pub fn sent(&self) -> Vec<SentMail> {
        match &self.transport {
            Transport::Memory(sent) => sent.lock().map(|s| s.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}
