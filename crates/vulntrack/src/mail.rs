//! Outgoing mail. With `VULNTRACK_SMTP_URL` set, mail goes out over SMTP
//! (lettre); without it, the message is written to the server log at WARN
//! so an operator of a small install can still pass a reset link on.

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use secrecy::ExposeSecret;

use crate::config::Config;

#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the SMTP credentials.
        f.debug_struct("SmtpMailer").field("from", &self.from).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub enum Mailer {
    Log,
    Smtp(Box<SmtpMailer>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mailer::Log => "Mailer::Log",
            Mailer::Smtp(_) => "Mailer::Smtp",
        })
    }
}

/// One message to one person.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    /// The mailer the configuration asks for. Config validation already
    /// checked the URL and sender, so an error here is a real surprise.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let Some(url) = &config.smtp_url else {
            return Ok(Mailer::Log);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())?.build();
        Ok(Mailer::Smtp(Box::new(SmtpMailer { transport, from: config.smtp_from.clone() })))
    }

    /// Sends in the background: the request that asked for the mail neither
    /// waits for the SMTP server nor reveals by its timing whether a mail
    /// was sent at all.
    pub fn send_in_background(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&mail).await {
                tracing::error!(%error, subject = %mail.subject, "could not send mail");
            }
        });
    }

    pub async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        match self {
            Mailer::Log => {
                tracing::warn!(
                    to = %mail.to,
                    subject = %mail.subject,
                    body = %mail.body,
                    "no SMTP server configured (VULNTRACK_SMTP_URL): mail written to the log instead"
                );
                Ok(())
            }
            Mailer::Smtp(smtp) => {
                let SmtpMailer { transport, from } = smtp.as_ref();
                let message = Message::builder()
                    .from(from.clone())
                    .to(mail.to.parse()?)
                    .subject(&mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())?;
                transport.send(message).await?;
                Ok(())
            }
        }
    }
}
