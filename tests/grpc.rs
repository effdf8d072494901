//! Wire tests: the server on `127.0.0.1:0`, called through tonic's generated clients. Each
//! transport feature runs in process (`serve_with_incoming`); graceful shutdown runs the built
//! binary and sends it a real SIGTERM.
//!
//! The requests name an XR kind no composition serves, so their outcome does not depend on any
//! composition: a Fatal result and a `Valid=False` condition (a successful gRPC call) that must
//! keep the tag, the TTL, the context and what an earlier pipeline step composed.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use function_sco::function::{CONDITION_VALID, Sco};
use function_sco::sdk::proto::{v1, v1beta1};
use function_sco::sdk::server::{V1_SERVICE, V1BETA1_SERVICE, serve_with_incoming};
use function_sco::sdk::{Error, ServerArgs};
use prost::Message;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use support::process::Served;

type V1Client = v1::function_runner_service_client::FunctionRunnerServiceClient<Channel>;
type V1Beta1Client = v1beta1::function_runner_service_client::FunctionRunnerServiceClient<Channel>;

/// The XR kind in every request; no composition serves it.
const UNSERVED_KIND: &str = "XBucket";

/// A server running in this test's runtime until [`InProcess::stop`].
struct InProcess {
    address: SocketAddr,
    metrics: Option<SocketAddr>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), Error>>,
}

impl InProcess {
    async fn start(args: ServerArgs) -> Self {
        Self::start_with_metrics(args, false).await
    }

    async fn start_with_metrics(args: ServerArgs, with_metrics: bool) -> Self {
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let address = grpc.local_addr().unwrap();
        let metrics_listener = match with_metrics {
            true => Some(
                TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind metrics"),
            ),
            false => None,
        };
        let metrics = metrics_listener.as_ref().map(|l| l.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve_with_incoming(Sco, &args, grpc, metrics_listener, async {
                let _ = stopped.await;
            })
            .await
        });
        Self {
            address,
            metrics,
            stop,
            task,
        }
    }

    async fn channel(&self) -> Channel {
        connect(&format!("http://{}", self.address)).await
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("server task")
            .expect("server stops cleanly");
    }
}

async fn connect(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

fn args() -> ServerArgs {
    ServerArgs {
        ttl: Duration::from_secs(42),
        ..ServerArgs::insecure_defaults()
    }
}

/// A request for an XR no composition serves, carrying context and two resources an earlier
/// pipeline step composed (one with connection details and readiness).
fn request(tag: &str) -> v1::RunFunctionRequest {
    let xr = json!({
        "apiVersion": "example.org/v1",
        "kind": UNSERVED_KIND,
        "metadata": {"name": "bucket", "namespace": "team-a"},
        "spec": {"size": 3, "ratio": 0.5},
    });
    let mut desired = v1::State::default();
    desired.resources.insert(
        "from-earlier-step".into(),
        v1::Resource {
            resource: pbstruct::from_json_value(&json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "labels": {"app": "x"}},
                "data": {"replicas": "2"},
            })),
            connection_details: [("password".to_owned(), b"not-logged".to_vec())]
                .into_iter()
                .collect(),
            ready: v1::Ready::True.into(),
        },
    );
    desired.resources.insert(
        "another".into(),
        v1::Resource {
            resource: pbstruct::from_json_value(
                &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
            ),
            ..Default::default()
        },
    );
    v1::RunFunctionRequest {
        meta: Some(v1::RequestMeta {
            tag: tag.to_owned(),
            ..Default::default()
        }),
        observed: Some(v1::State {
            composite: Some(v1::Resource {
                resource: pbstruct::from_json_value(&xr),
                ..Default::default()
            }),
            ..Default::default()
        }),
        desired: Some(desired),
        context: pbstruct::from_json_value(&json!({"example.org/step": {"seen": [1, 2]}})),
        ..Default::default()
    }
}

/// Asserts `rsp` answers `req`: tag, TTL, desired state and context kept, and the Fatal result
/// plus `Valid=False` condition an unserved kind gets.
fn assert_answers(req: &v1::RunFunctionRequest, rsp: &v1::RunFunctionResponse, ttl: Duration) {
    let meta = rsp.meta.as_ref().expect("response meta");
    assert_eq!(
        meta.tag,
        req.meta.as_ref().unwrap().tag,
        "the tag is echoed"
    );
    assert_eq!(
        meta.ttl,
        Some(prost_types::Duration {
            seconds: ttl.as_secs() as i64,
            nanos: 0
        }),
        "the TTL is the server's"
    );
    assert_eq!(
        rsp.desired, req.desired,
        "desired state from earlier steps is kept as it was"
    );
    assert_eq!(rsp.context, req.context, "the context is passed on");
    assert_eq!(rsp.results.len(), 1, "{:?}", rsp.results);
    let result = &rsp.results[0];
    assert_eq!(result.severity(), v1::Severity::Fatal);
    assert_eq!(result.reason.as_deref(), Some("UnsupportedComposite"));
    assert!(result.message.contains(UNSERVED_KIND), "{}", result.message);
    let valid = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == CONDITION_VALID)
        .expect("a Valid condition");
    assert_eq!(valid.status(), v1::Status::ConditionFalse);
    assert_eq!(valid.reason, "UnsupportedComposite");
    assert_eq!(valid.message.as_deref(), Some(result.message.as_str()));
}

/// Calls RunFunction with [`request`]`(tag)` and asserts the call is served and answered.
async fn assert_served(client: &mut V1Client, tag: &str, ttl: Duration) {
    let req = request(tag);
    let rsp = client
        .run_function(req.clone())
        .await
        .unwrap_or_else(|e| panic!("call {tag:?}: {e:?}"));
    assert_answers(&req, &rsp.into_inner(), ttl);
}

#[tokio::test]
async fn an_insecure_call_is_answered_with_the_tag_ttl_and_earlier_desired_state() {
    let server = InProcess::start(args()).await;
    let mut client = V1Client::new(server.channel().await);
    for tag in ["first", "second"] {
        assert_served(&mut client, tag, Duration::from_secs(42)).await;
    }
    server.stop().await;
}

/// RunFunction of `service` with an encoded request; returns the encoded response as sent.
async fn raw_call(channel: Channel, service: &str, request: Vec<u8>) -> Vec<u8> {
    support::raw::call(&channel, &format!("/{service}/RunFunction"), request.into())
        .await
        .expect("RunFunction")
        .to_vec()
}

#[tokio::test]
async fn identical_requests_get_byte_identical_answers() {
    let server = InProcess::start(args()).await;
    let channel = server.channel().await;
    let mut req = request("same");
    let desired = req.desired.as_mut().unwrap();
    for n in 0..8 {
        desired
            .resources
            .insert(format!("earlier-{n}"), v1::Resource::default());
    }
    let first = raw_call(channel.clone(), V1_SERVICE, req.encode_to_vec()).await;
    let second = raw_call(channel, V1_SERVICE, req.encode_to_vec()).await;
    assert_eq!(first, second);
    assert_answers(
        &req,
        &v1::RunFunctionResponse::decode(first.as_slice()).unwrap(),
        Duration::from_secs(42),
    );
    server.stop().await;
}

#[tokio::test]
async fn v1_and_v1beta1_give_the_same_answer() {
    let server = InProcess::start(args()).await;
    let channel = server.channel().await;
    let req = request("both-versions");
    // Typed clients of both packages, as Crossplane (v1) and Crossplane 1.14 to 1.16 (v1beta1) call.
    let from_v1 = V1Client::new(channel.clone())
        .run_function(req.clone())
        .await
        .unwrap()
        .into_inner();
    let beta_req = v1beta1::RunFunctionRequest::decode(req.encode_to_vec().as_slice()).unwrap();
    let from_beta = V1Beta1Client::new(channel.clone())
        .run_function(beta_req)
        .await
        .unwrap()
        .into_inner();
    let from_beta = v1::RunFunctionResponse::decode(from_beta.encode_to_vec().as_slice()).unwrap();
    assert_answers(&req, &from_v1, Duration::from_secs(42));
    assert_eq!(from_v1.encode_to_vec(), from_beta.encode_to_vec());
    // And byte for byte as sent.
    let raw_v1 = raw_call(channel.clone(), V1_SERVICE, req.encode_to_vec()).await;
    let raw_beta = raw_call(channel, V1BETA1_SERVICE, req.encode_to_vec()).await;
    assert_eq!(raw_v1, raw_beta);
    server.stop().await;
}

#[tokio::test]
async fn health_reports_serving_for_the_server_and_both_services() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let server = InProcess::start(args()).await;
    let mut health = HealthClient::new(server.channel().await);
    for service in ["", V1_SERVICE, V1BETA1_SERVICE] {
        let rsp = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check");
        assert_eq!(
            rsp.into_inner().status(),
            ServingStatus::Serving,
            "service {service:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await;
    assert_eq!(
        unknown.expect_err("an unknown service is not found").code(),
        Code::NotFound
    );
    server.stop().await;
}

#[tokio::test]
async fn reflection_lists_both_function_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = InProcess::start(args()).await;
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let list = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::once(list))
        .await
        .expect("reflection")
        .into_inner();
    let answer = answers
        .message()
        .await
        .expect("a reflection answer")
        .expect("one message");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("expected a service list, got {answer:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for service in [V1_SERVICE, V1BETA1_SERVICE] {
        assert!(names.contains(&service), "{service} missing from {names:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_request_above_the_size_limit_is_resource_exhausted_and_the_server_keeps_serving() {
    let server = InProcess::start(ServerArgs {
        max_recv_message_size: 1 << 20,
        ..args()
    })
    .await;
    let mut client = V1Client::new(server.channel().await);
    let mut oversized = request("oversized");
    let xr = oversized
        .observed
        .as_mut()
        .unwrap()
        .composite
        .as_mut()
        .unwrap();
    xr.resource = pbstruct::from_json_value(
        &json!({"apiVersion": "example.org/v1", "kind": UNSERVED_KIND, "spec": {"blob": "x".repeat(2 << 20)}}),
    );
    let refused = client
        .run_function(oversized)
        .await
        .expect_err("a 2 MiB request above a 1 MiB limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");

    assert_served(
        &mut client,
        "after-the-oversized-one",
        Duration::from_secs(42),
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_calls_by_composition_and_outcome() {
    let server = InProcess::start_with_metrics(
        ServerArgs {
            max_recv_message_size: 1 << 20,
            ..args()
        },
        true,
    )
    .await;
    let mut client = V1Client::new(server.channel().await);
    for n in 0..3 {
        client
            .run_function(request(&format!("call-{n}")))
            .await
            .expect("RunFunction");
    }
    let mut oversized = request("oversized");
    oversized.context = pbstruct::from_json_value(&json!({"blob": "x".repeat(2 << 20)}));
    let refused = client.run_function(oversized).await.expect_err("too large");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let text = http_get(server.metrics.unwrap(), "/metrics").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // function-sdk-go's series, named and labelled as go-grpc-middleware's; the refused call
    // is counted with the code the client saw.
    let v1 = r#"grpc_type="unary",grpc_service="apiextensions.fn.proto.v1.FunctionRunnerService",grpc_method="RunFunction""#;
    for line in [
        r#"function_sco_run_function_calls_total{composition="unknown",outcome="fatal"} 3"#,
        r#"function_sco_run_function_duration_seconds_count{composition="unknown"} 3"#,
        "function_sco_run_function_in_flight 0",
        r#"function_sco_run_function_refused_total{reason="too_large"} 1"#,
        &format!("grpc_server_started_total{{{v1}}} 4"),
        &format!("grpc_server_msg_received_total{{{v1}}} 4"),
        &format!("grpc_server_msg_sent_total{{{v1}}} 4"),
        &format!(r#"grpc_server_handled_total{{{v1},grpc_code="OK"}} 3"#),
        &format!(r#"grpc_server_handled_total{{{v1},grpc_code="ResourceExhausted"}} 1"#),
        &format!(r#"grpc_server_handled_total{{{v1},grpc_code="OutOfRange"}} 0"#),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing from:\n{text}"
        );
    }
    assert!(
        http_get(server.metrics.unwrap(), "/other")
            .await
            .starts_with("HTTP/1.1 404")
    );
    server.stop().await;
}

/// A plain HTTP/1.1 GET; returns the whole response, status line first.
async fn http_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address)
        .await
        .expect("connect to metrics");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn without_insecure_or_tls_certificates_the_server_refuses_to_start() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let secure = ServerArgs {
        insecure: false,
        tls_certs_dir: None,
        ..args()
    };
    let refused = serve_with_incoming(Sco, &secure, listener, None, std::future::pending()).await;
    assert!(
        matches!(refused, Err(Error::NoTransportSecurity)),
        "{refused:?}"
    );

    let empty = scratch_dir("no-certificates");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let missing = ServerArgs {
        insecure: false,
        tls_certs_dir: Some(empty),
        ..args()
    };
    let refused = serve_with_incoming(Sco, &missing, listener, None, std::future::pending()).await;
    assert!(
        matches!(&refused, Err(Error::ReadCertificate { path, .. }) if path.ends_with("tls.crt")),
        "{refused:?}"
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_function-sco"))
        .args(["--address", "127.0.0.1:0", "--metrics-address", ""])
        .env_remove("TLS_SERVER_CERTS_DIR")
        .output()
        .expect("run function-sco");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "it must not serve without transport security: {stderr}"
    );
    assert!(
        stderr.contains("--tls-certs-dir") && stderr.contains("--insecure"),
        "{stderr}"
    );
}

/// An empty directory of this test run's own, under cargo's scratch directory.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("grpc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A certificate and its key, PEM.
struct Pem {
    cert: String,
    key: String,
}

/// A CA that can sign server and client certificates.
struct Authority(rcgen::CertifiedIssuer<'static, rcgen::KeyPair>);

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        Self(
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
                .unwrap(),
        )
    }

    fn pem(&self) -> String {
        self.0.pem()
    }

    fn issue(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> Pem {
        self.issue_valid(names, usage, None)
    }

    /// A certificate valid from `validity.0` to `validity.1` (years), else rcgen's default.
    fn issue_valid(
        &self,
        names: &[&str],
        usage: rcgen::ExtendedKeyUsagePurpose,
        validity: Option<(i32, i32)>,
    ) -> Pem {
        let mut params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            names.first().copied().unwrap_or("client"),
        );
        params.extended_key_usages = vec![usage];
        if let Some((from, to)) = validity {
            params.not_before = rcgen::date_time_ymd(from, 1, 1);
            params.not_after = rcgen::date_time_ymd(to, 1, 1);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.0).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// Calls RunFunction over TLS trusting `ca`, presenting `identity` if given. Any failure, in
/// the handshake or the call, is an `Err`.
async fn call_over_tls(
    address: SocketAddr,
    ca: &str,
    identity: Option<&Pem>,
    tag: &str,
) -> Result<v1::RunFunctionResponse, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(&identity.cert, &identity.key));
    }
    let endpoint = Endpoint::from_shared(format!("https://{address}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?;
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let rsp = V1Client::new(channel)
        .run_function(request(tag))
        .await
        .map_err(|e| format!("call: {e:?}"))?;
    Ok(rsp.into_inner())
}

#[tokio::test]
async fn mtls_serves_only_clients_with_a_certificate_from_its_ca() {
    use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
    let crossplane = Authority::new("crossplane-root-ca");
    let stranger = Authority::new("another-ca");
    let server_cert = crossplane.issue(&["localhost", "127.0.0.1"], ServerAuth);
    let dir = scratch_dir("mtls");
    std::fs::write(dir.join("tls.crt"), &server_cert.cert).unwrap();
    std::fs::write(dir.join("tls.key"), &server_cert.key).unwrap();
    std::fs::write(dir.join("ca.crt"), crossplane.pem()).unwrap();
    let server = InProcess::start(ServerArgs {
        insecure: false,
        tls_certs_dir: Some(dir),
        ..args()
    })
    .await;

    let client = crossplane.issue(&["crossplane"], ClientAuth);
    let rsp = call_over_tls(server.address, &crossplane.pem(), Some(&client), "mtls")
        .await
        .expect("a client of the same CA is served");
    assert_answers(&request("mtls"), &rsp, Duration::from_secs(42));

    // The server's TLS alerts say why: rustls names them CertificateRequired and UnknownCA.
    let refused = call_over_tls(server.address, &crossplane.pem(), None, "anonymous").await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("CertificateRequired")),
        "a client without a certificate must be refused: {refused:?}"
    );
    let foreign = stranger.issue(&["crossplane"], ClientAuth);
    let refused = call_over_tls(server.address, &crossplane.pem(), Some(&foreign), "foreign").await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("UnknownCA")),
        "a client certificate from another CA must be refused: {refused:?}"
    );
    // rustls checks validity against the clock (a certificate not valid yet gets the same
    // alert as an expired one) and the extended key usage for client authentication.
    for (what, pem, alert) in [
        (
            "an expired client certificate",
            crossplane.issue_valid(&["crossplane"], ClientAuth, Some((2020, 2021))),
            "CertificateExpired",
        ),
        (
            "a client certificate that is not valid yet",
            crossplane.issue_valid(&["crossplane"], ClientAuth, Some((2090, 2099))),
            "CertificateExpired",
        ),
        (
            "a certificate for servers only, presented by a client",
            crossplane.issue(&["crossplane"], ServerAuth),
            "UnsupportedCertificate",
        ),
    ] {
        let refused = call_over_tls(server.address, &crossplane.pem(), Some(&pem), "refused").await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains(alert)),
            "{what} must be refused: {refused:?}"
        );
    }
    let plaintext = V1Client::new(server.channel().await)
        .run_function(request("plaintext"))
        .await;
    assert!(
        plaintext.is_err(),
        "plaintext must be refused: {plaintext:?}"
    );

    let rsp = call_over_tls(server.address, &crossplane.pem(), Some(&client), "again")
        .await
        .expect("still serving");
    assert_eq!(rsp.meta.unwrap().tag, "again");
    server.stop().await;
}

/// A request body that signals when the client starts sending it (the HTTP/2 stream is open)
/// and then holds the one message back until released: a call that is in flight on the server
/// for as long as the test wants.
/// A call whose body never arrives until dropped: it stays in flight on the server.
fn stalled(
    channel: Channel,
) -> (
    JoinHandle<Result<v1::RunFunctionResponse, tonic::Status>>,
    oneshot::Receiver<()>,
    oneshot::Sender<v1::RunFunctionRequest>,
) {
    let (opened_tx, opened) = oneshot::channel();
    let (release, release_rx) = oneshot::channel();
    let call = tokio::spawn(held_call(
        channel,
        HeldBody {
            opened: Some(opened_tx),
            release: Some(release_rx),
        },
    ));
    (call, opened, release)
}

#[tokio::test]
async fn a_call_beyond_the_in_flight_limit_is_resource_exhausted_at_once() {
    let server = InProcess::start(ServerArgs {
        max_concurrent_calls: 1,
        ..args()
    })
    .await;
    let channel = server.channel().await;
    let (held, opened, release) = stalled(channel.clone());
    opened.await.expect("the held call starts");
    // The held call's headers reach the server before a later stream's on the same connection.
    let mut client = V1Client::new(channel.clone());
    let mut refused = None;
    for _ in 0..50 {
        match client.run_function(request("beyond")).await {
            Err(status) => {
                refused = Some(status);
                break;
            }
            // The held call's headers were not in yet: try again.
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let status = refused.expect("a call beyond the limit is refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("calls in flight"), "{status:?}");
    // Health checks are never refused.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health is served while at the limit");
    // Once the held call finishes, calls are served again.
    release.send(request("held")).unwrap();
    held.await.unwrap().expect("the held call is answered");
    assert_served(&mut client, "after", Duration::from_secs(42)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_call_is_deadline_exceeded_at_the_call_timeout_and_the_server_keeps_serving() {
    let server = InProcess::start(ServerArgs {
        call_timeout: Duration::from_millis(200),
        ..args()
    })
    .await;
    let channel = server.channel().await;
    let (held, opened, _release) = stalled(channel.clone());
    opened.await.expect("the held call starts");
    let status = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("answered within the bound")
        .unwrap()
        .expect_err("the stalled call fails");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_served(
        &mut V1Client::new(channel),
        "after",
        Duration::from_secs(42),
    )
    .await;
    server.stop().await;
}

struct HeldBody {
    opened: Option<oneshot::Sender<()>>,
    release: Option<oneshot::Receiver<v1::RunFunctionRequest>>,
}

impl tokio_stream::Stream for HeldBody {
    type Item = v1::RunFunctionRequest;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(opened) = self.opened.take() {
            let _ = opened.send(());
        }
        let Some(release) = self.release.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(release).poll(cx) {
            Poll::Ready(message) => {
                self.release = None;
                Poll::Ready(message.ok())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// RunFunction with a [`HeldBody`]: on the wire a unary call whose message comes late.
async fn held_call(
    channel: Channel,
    body: HeldBody,
) -> Result<v1::RunFunctionResponse, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(
        "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
    );
    let codec = tonic_prost::ProstCodec::default();
    grpc.client_streaming(tonic::Request::new(body), path, codec)
        .await
        .map(tonic::Response::into_inner)
}

/// One client looping RunFunction on its own connection until a call fails; returns the tags
/// of the calls answered and the status that ended the loop.
async fn load(
    channel: Channel,
    client: usize,
    progress: Arc<watch::Sender<usize>>,
) -> (Vec<String>, tonic::Status) {
    let mut runner = V1Client::new(channel);
    let mut answered = Vec::new();
    loop {
        let tag = format!("load-{client}-{}", answered.len());
        let req = request(&tag);
        match runner.run_function(req.clone()).await {
            Ok(rsp) => {
                assert_answers(&req, &rsp.into_inner(), Duration::from_secs(60));
                answered.push(tag);
                progress.send_modify(|n| *n += 1);
            }
            Err(status) => return (answered, status),
        }
    }
}

/// Whether a failed call provably never reached the server's handler: its connection was
/// refused, the client never sent it (hyper cancelled it as the connection closed), its
/// request was still being written when the server closed the connection (the server closes
/// it only once every stream it accepted is answered, so that stream was never accepted), or
/// the server's GOAWAY declared its stream unprocessed (grpc-go, Crossplane's client, retries
/// those transparently; tonic does not). The test checks the server's side separately: every
/// call its log says it handled was answered.
fn never_processed(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::BrokenPipe
            );
        }
        if let Some(hyper) = error.downcast_ref::<hyper::Error>()
            && hyper.is_canceled()
        {
            return true;
        }
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            return h2.is_go_away() && h2.is_remote() && h2.reason() == Some(h2::Reason::NO_ERROR);
        }
        source = error.source();
    }
    false
}

/// Polls until a new TCP connection to `address` is refused: the server stopped accepting.
async fn until_refused(address: SocketAddr) {
    let started = Instant::now();
    while TcpStream::connect(address).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server kept accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `future`'s output, or a failure naming `what` and showing the server's log after two
/// minutes: a wait that cannot end must fail the test, not hang it.
async fn within<T>(server: &Served, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(120), future).await {
        Ok(output) => output,
        Err(_) => panic!(
            "{what}: not within 120 s; the server's log:\n{}",
            server.log()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_calls_in_flight_and_exits_zero() {
    const CLIENTS: usize = 32;
    let mut server = Served::start(&["--insecure"]);
    let mut answered = BTreeSet::new();

    // A call the server has accepted but cannot finish before the test releases its message.
    let held_channel = connect(&server.url()).await;
    let (opened_tx, opened) = oneshot::channel();
    let (release, release_rx) = oneshot::channel();
    let held = tokio::spawn(held_call(
        held_channel.clone(),
        HeldBody {
            opened: Some(opened_tx),
            release: Some(release_rx),
        },
    ));
    within(&server, "the held call starts sending", opened)
        .await
        .expect("the held call starts sending");
    // A later stream on the same connection, answered: the server has seen the held one too.
    assert_served(
        &mut V1Client::new(held_channel),
        "behind-the-held-call",
        Duration::from_secs(60),
    )
    .await;
    answered.insert("behind-the-held-call".to_owned());

    let progress = Arc::new(watch::channel(0).0);
    let mut watcher = progress.subscribe();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        clients.push(tokio::spawn(load(
            connect(&server.url()).await,
            c,
            progress.clone(),
        )));
    }
    within(
        &server,
        "the load clients get answers",
        watcher.wait_for(|&n| n >= CLIENTS * 8),
    )
    .await
    .unwrap();

    server.terminate();
    until_refused(server.address).await;
    let req = request("held");
    release
        .send(req.clone())
        .expect("the held call is still waiting");
    let rsp = within(&server, "the held call ends", held)
        .await
        .unwrap()
        .expect("the call in flight at SIGTERM is answered");
    assert_answers(&req, &rsp, Duration::from_secs(60));
    answered.insert("held".to_owned());

    for client in clients {
        let (tags, status) = within(&server, "a load client ends", client)
            .await
            .expect("a load client");
        answered.extend(tags);
        assert!(
            never_processed(&status),
            "a call failed after the server accepted it: {status:?}"
        );
    }
    let exit = server.wait();
    assert_eq!(
        exit.code(),
        Some(0),
        "function-sco must exit 0 on SIGTERM; its log:\n{}",
        server.log()
    );
    // Every call the function handled was answered, and only those.
    let handled: BTreeSet<String> = server
        .events()
        .iter()
        .filter(|e| e["message"] == "RunFunction")
        .filter_map(|e| e["tag"].as_str().map(str::to_owned))
        .collect();
    assert!(answered.len() > CLIENTS * 8);
    assert_eq!(handled, answered);
}

#[test]
fn sigterm_right_after_start_exits_zero() {
    let mut server = Served::start(&["--insecure"]);
    server.terminate();
    let exit = server.wait();
    assert_eq!(exit.code(), Some(0), "its log:\n{}", server.log());
    assert!(
        server.events().iter().any(|e| e["message"] == "stopped"),
        "{}",
        server.log()
    );
}

/// Every example's request as Crossplane sends it once requirements are settled, with the
/// bytes the function answers it with in-process.
fn example_calls() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    use function_sco::sdk::{Runner, render};
    let runner = Runner::new(Sco, Duration::from_secs(42));
    support::case_dirs(&support::root().join("examples"))
        .into_iter()
        .map(|dir| {
            let (req, _) = render::settle(&runner, &support::case_input(&dir));
            let expected = runner.call(&req).encode_to_vec();
            (dir.display().to_string(), req.encode_to_vec(), expected)
        })
        .collect()
}

/// The quick version of the soak in `benches/load.rs`: every example's request, mixed, from
/// 64 concurrent clients, each call under the caller's deadline and the server's call timeout,
/// while the metrics endpoint is scraped. Every call must be answered with the bytes the
/// function gives in-process; a composition that panics, stalls or slows past the deadline
/// fails this test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_load_of_every_example_is_answered_in_full_while_metrics_are_scraped() {
    const CLIENTS: usize = 64;
    const CALLS_EACH: usize = 8;
    let server = InProcess::start_with_metrics(
        ServerArgs {
            call_timeout: Duration::from_secs(20),
            ..args()
        },
        true,
    )
    .await;
    let calls = Arc::new(example_calls());
    let channel = server.channel().await;
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (channel, calls) = (channel.clone(), calls.clone());
        clients.push(tokio::spawn(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            for n in 0..CALLS_EACH {
                let (example, req, expected) = &calls[(client + n) % calls.len()];
                grpc.ready().await.expect("the connection is ready");
                let mut request = tonic::Request::new(prost::bytes::Bytes::from(req.clone()));
                request.set_timeout(Duration::from_secs(10));
                let path = http::uri::PathAndQuery::from_static(
                    "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
                );
                let answer = grpc
                    .unary(request, path, support::raw::Raw)
                    .await
                    .unwrap_or_else(|status| panic!("{example}: {status:?}"))
                    .into_inner();
                assert!(
                    answer == expected.as_slice(),
                    "{example}: another answer under load"
                );
            }
        }));
    }
    let scraper = {
        let address = server.metrics.expect("metrics served");
        tokio::spawn(async move {
            for _ in 0..20 {
                let text = http_get(address, "/metrics").await;
                assert!(text.starts_with("HTTP/1.1 200"), "{text}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    for client in clients {
        client
            .await
            .expect("a client finished without a failed call");
    }
    scraper
        .await
        .expect("the metrics endpoint answered under load");
    let text = http_get(server.metrics.unwrap(), "/metrics").await;
    let counted: u64 = text
        .lines()
        .filter(|l| l.starts_with("function_sco_run_function_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, (CLIENTS * CALLS_EACH) as u64, "{text}");
    assert!(
        text.contains("function_sco_run_function_in_flight 0"),
        "{text}"
    );
    server.stop().await;
}

/// Writes `bytes` on a new connection to `address` and waits until the server closes it or
/// answers; returns what it answered.
async fn poke(address: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    // An HTTP/1.1 answer or an HTTP/2 GOAWAY is enough.
                    if answer.len() >= 9 {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed the connection"
    );
    answer
}

/// Garbage on the port, a malformed message, a client stalled mid-frame and a cancelled call
/// leave the server serving everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_the_port_leave_the_server_serving() {
    let server = InProcess::start_with_metrics(args(), true).await;
    let channel = server.channel().await;

    // A RunFunction message that is not protobuf: an error status, not a crash.
    let malformed = support::raw::call(
        &channel,
        "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
        prost::bytes::Bytes::from_static(&[0xff; 32]),
    )
    .await;
    let status = malformed.expect_err("malformed protobuf is refused");
    assert!(
        matches!(status.code(), Code::Internal | Code::InvalidArgument),
        "{status:?}"
    );

    // HTTP/1.1 and a TLS ClientHello on the plaintext HTTP/2 port.
    poke(server.address, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
    ];
    hello.extend((0u8..=255).cycle().take(200));
    poke(server.address, &hello).await;

    // A client that sends the HTTP/2 preface and half a frame, then nothing: held open while
    // the others are served.
    let mut stalled_frame = TcpStream::connect(server.address).await.expect("connect");
    stalled_frame
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x03\xe8\x01\x04\x00\x00\x00\x01abc")
        .await
        .expect("write half a frame");

    // A call cancelled while in flight.
    let (call, opened, _release) = stalled(server.channel().await);
    opened.await.expect("the held call is open");
    call.abort();
    let _ = call.await;

    let mut client = V1Client::new(server.channel().await);
    assert_served(&mut client, "after-faults", Duration::from_secs(42)).await;
    // The cancelled call leaves the in-flight gauge once the server sees the reset.
    let mut text = String::new();
    for _ in 0..100 {
        text = http_get(server.metrics.unwrap(), "/metrics").await;
        if text.contains("function_sco_run_function_in_flight 0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        text.contains("function_sco_run_function_in_flight 0"),
        "{text}"
    );
    drop(stalled_frame);
    server.stop().await;
}
