//! `ferrodon ctl email_domain_blocks` and `ferrodon ctl ip_blocks`, as tootctl's: the same
//! operations as the admin API, run as the server's administrator (not logged).

use clap::Subcommand;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::staff::{self, IpRule, Staff};
use crate::model::sign_up_blocks::{self, NO_ACCESS, SIGN_UP_BLOCK, SIGN_UP_REQUIRES_APPROVAL};

#[derive(Subcommand)]
pub enum EmailDomainBlocksCommand {
    /// Refuse sign-ups with addresses at these domains (and their subdomains).
    Add {
        #[arg(required = true)]
        domains: Vec<String>,
        /// Hold such sign-ups for approval instead of refusing them.
        #[arg(long)]
        with_approval: bool,
    },
    Remove {
        #[arg(required = true)]
        domains: Vec<String>,
    },
    List,
}

#[derive(Subcommand)]
pub enum IpBlocksCommand {
    /// Block addresses or ranges (`203.0.113.0/24`).
    Add {
        #[arg(required = true)]
        addresses: Vec<String>,
        /// sign_up_requires_approval, sign_up_block or no_access.
        #[arg(long)]
        severity: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// Seconds until the block lapses.
        #[arg(long)]
        duration: Option<i64>,
    },
    Remove {
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Print the blocked ranges, as a list or as nginx `deny` lines.
    Export {
        #[arg(long, default_value = "plain")]
        format: String,
    },
}

#[derive(Subcommand)]
pub enum CanonicalEmailBlocksCommand {
    /// The blocks an address falls under (any dots or +tag in it).
    Find { email: String },
    /// Lift the blocks an address falls under.
    Remove { email: String },
}

pub async fn canonical_email_blocks(state: &AppState, command: CanonicalEmailBlocksCommand) -> Result<()> {
    let db = &state.db.primary;
    match command {
        CanonicalEmailBlocksCommand::Find { email } => {
            let found = sign_up_blocks::canonical_email_blocks_matching(db, &email).await?;
            if found.is_empty() {
                println!("{email} is not blocked");
            }
            for block in found {
                println!("{email} is blocked (hash {})", block.canonical_email_hash);
            }
        }
        CanonicalEmailBlocksCommand::Remove { email } => {
            let found = sign_up_blocks::canonical_email_blocks_matching(db, &email).await?;
            if found.is_empty() {
                return Err(Error::bad_request(format!("{email} is not blocked")));
            }
            let console = Staff::console();
            for block in &found {
                staff::delete_canonical_email_block(db, &console, block.id).await?;
            }
            println!("Unblocked {email}");
        }
    }
    Ok(())
}

pub async fn email_domain_blocks(state: &AppState, command: EmailDomainBlocksCommand) -> Result<()> {
    let db = &state.db.primary;
    let console = Staff::console();
    match command {
        EmailDomainBlocksCommand::Add { domains, with_approval } => {
            for domain in domains {
                match staff::create_email_domain_block(db, &console, &domain, with_approval).await {
                    Ok(_) => println!("added {domain}"),
                    Err(Error::Unprocessable(message)) => println!("{domain}: {message}"),
                    Err(e) => return Err(e),
                }
            }
        }
        EmailDomainBlocksCommand::Remove { domains } => {
            for domain in domains {
                let Some(id) = sign_up_blocks::email_domain_block_id(db, &domain).await? else {
                    return Err(Error::bad_request(format!("{domain} is not blocked")));
                };
                staff::delete_email_domain_block(db, &console, id).await?;
                println!("removed {domain}");
            }
        }
        EmailDomainBlocksCommand::List => {
            for block in sign_up_blocks::all_email_domain_blocks(db).await? {
                let note = if block.allow_with_approval { " (with approval)" } else { "" };
                println!("{}{note}", block.domain);
            }
        }
    }
    Ok(())
}

pub async fn ip_blocks(state: &AppState, command: IpBlocksCommand) -> Result<()> {
    let db = &state.db.primary;
    let console = Staff::console();
    match command {
        IpBlocksCommand::Add { addresses, severity, comment, duration } => {
            let severity = match severity.as_str() {
                "sign_up_requires_approval" => SIGN_UP_REQUIRES_APPROVAL,
                "sign_up_block" => SIGN_UP_BLOCK,
                "no_access" => NO_ACCESS,
                other => return Err(Error::bad_request(format!("unknown severity {other:?}"))),
            };
            for ip in addresses {
                let rule = IpRule { ip: ip.clone(), severity, comment: comment.clone(), expires_in: duration };
                staff::create_ip_block(db, &console, &rule).await?;
                println!("added {ip}");
            }
        }
        IpBlocksCommand::Remove { addresses } => {
            for ip in addresses {
                let Some(id) = sign_up_blocks::ip_block_id(db, &ip).await? else {
                    return Err(Error::bad_request(format!("{ip} is not blocked")));
                };
                staff::delete_ip_block(db, &console, id).await?;
                println!("removed {ip}");
            }
        }
        IpBlocksCommand::Export { format } => {
            let nginx = match format.as_str() {
                "plain" => false,
                "nginx" => true,
                other => return Err(Error::bad_request(format!("unknown format {other:?} (plain or nginx)"))),
            };
            for block in sign_up_blocks::all_ip_blocks(db).await? {
                if nginx {
                    println!("deny {};", block.ip);
                } else {
                    println!("{}", block.ip);
                }
            }
        }
    }
    Ok(())
}
