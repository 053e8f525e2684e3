//! Answering the control socket's requests.

use tend_store::{NewRun, RunId, TaskKey, TaskScope, Trigger};
use tokio::sync::mpsc;

use crate::daemon::Daemon;
use crate::exec::{Cancelled, Lane, Ticket};
use crate::protocol::{Reply, Request, SlotTimes, TaskInfo, TaskRef, shown_settings};

impl Daemon {
    pub(crate) async fn handle(&mut self, request: Request, reply: mpsc::UnboundedSender<Reply>) {
        let answer = match request {
            Request::Status => Reply::Status(Box::new(self.status())),
            Request::Ps => Reply::Ps {
                runs: self.exec.ps(),
            },
            Request::Cancel { run } => self.cancel(run).await,
            Request::Reload => {
                self.reload().await;
                Reply::Reloaded {
                    tasks: self.tasks.len(),
                    broken: self.broken.len(),
                }
            }
            Request::Run { task } => {
                self.run_now(task, reply).await;
                return;
            }
            Request::Tasks => self.tasks_info(),
            Request::Answer {
                approval,
                answer,
                reason,
                by,
            } => self.answer(approval, answer, reason, by).await,
        };
        let _ = reply.send(answer);
    }

    /// What the daemon schedules, sorted by label.
    fn tasks_info(&self) -> Reply {
        let mut tasks: Vec<TaskInfo> = self
            .tasks
            .iter()
            .map(|(id, t)| TaskInfo {
                id: id.get(),
                task: TaskRef {
                    project: match &t.key.scope {
                        TaskScope::Project(root) => Some(root.clone()),
                        TaskScope::User => None,
                    },
                    name: t.key.name.clone(),
                },
                label: t.label.clone(),
                description: t.task.description.clone(),
                path: t.task.path.clone(),
                schedule: t.task.schedule.to_string(),
                describe: t.task.schedule.describe(),
                timezone: t.task.timezone.name().to_owned(),
                enabled: t.task.enabled,
                next: t.next.filter(|_| t.schedulable).map(|s| SlotTimes {
                    due: s.due,
                    fire_at: s.fire_at,
                }),
                settings: shown_settings(&t.task),
            })
            .collect();
        tasks.sort_by(|a, b| a.label.cmp(&b.label));
        Reply::Tasks {
            tasks,
            broken: self.broken.iter().map(ToString::to_string).collect(),
        }
    }

    async fn cancel(&mut self, run: String) -> Reply {
        let Ok(id) = RunId::parse(&run) else {
            return Reply::Error {
                message: format!("`{run}` is not a run id"),
            };
        };
        match self.exec.cancel(&id, "cancelled with `tend cancel`").await {
            Cancelled::Stopping => Reply::Cancelled {
                run,
                was: "running".into(),
            },
            Cancelled::Dequeued => Reply::Cancelled {
                run,
                was: "queued".into(),
            },
            Cancelled::NotMine => Reply::NotMine { run },
        }
    }

    /// `tend run TASK` handed over: a manual run, started when a worker is free, its events
    /// streamed back.
    async fn run_now(&mut self, task: TaskRef, reply: mpsc::UnboundedSender<Reply>) {
        let error = |message: String| {
            let _ = reply.send(Reply::Error { message });
        };
        let key = match &task.project {
            Some(root) => TaskKey::project(root.clone(), task.name.clone()),
            None => TaskKey::user(task.name.clone()),
        };
        if !self.by_key.contains_key(&key) {
            // A project the daemon does not know yet, or a file written a moment ago.
            if let Some(root) = &task.project
                && !self.roots.contains(root)
            {
                if let Err(e) = self.store.register_project(root, self.clock.now()).await {
                    return error(e.to_string());
                }
                self.roots.push(root.clone());
            }
            self.reload().await;
        }
        let Some(&id) = self.by_key.get(&key) else {
            return error(format!(
                "the daemon cannot load task `{}`; `tend validate` shows why",
                task.name
            ));
        };
        let Some(loaded) = self.tasks.get(&id) else {
            return error(format!("task `{}` is not loaded", task.name));
        };
        let now = self.clock.now();
        let run = match self
            .store
            .create_run(&NewRun {
                task: id,
                trigger: Trigger::Manual,
                created_at: now,
            })
            .await
        {
            Ok(run) => run,
            Err(e) => return error(e.to_string()),
        };
        let queued = !self.exec.would_start_now(id, Lane::Free);
        let _ = reply.send(Reply::RunCreated {
            run: run.id.to_string(),
            queued,
        });
        tracing::info!("{}: run {} asked for by hand", loaded.label, run.id);
        self.exec.enqueue(Ticket {
            run: run.id,
            task_id: id,
            label: loaded.label.clone(),
            task: loaded.task.clone(),
            config: loaded.config.clone(),
            slot: None,
            trigger: Trigger::Manual,
            lane: Lane::Free,
            created: now,
            subscriber: Some(reply),
            resume: None,
        });
        self.exec.pump();
    }
}
