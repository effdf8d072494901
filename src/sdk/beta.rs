//! The gRPC services: v1, and v1beta1 adapted to v1 by re-encoding (the two packages are
//! wire-identical; this is function-sdk-go's `BetaServer`).

use std::sync::Arc;

use prost::Message;
use tonic::{Request, Response, Status};

use super::proto::{v1, v1beta1};
use super::runner::{Function, Runner};

/// Serves `apiextensions.fn.proto.v1.FunctionRunnerService`.
pub struct V1<F>(pub Arc<Runner<F>>);

#[tonic::async_trait]
impl<F: Function> v1::function_runner_service_server::FunctionRunnerService for V1<F> {
    async fn run_function(
        &self,
        request: Request<v1::RunFunctionRequest>,
    ) -> Result<Response<v1::RunFunctionResponse>, Status> {
        Ok(Response::new(self.0.call(request.get_ref())))
    }
}

/// Serves `apiextensions.fn.proto.v1beta1.FunctionRunnerService` through the v1 runner.
pub struct V1Beta1<F>(pub Arc<Runner<F>>);

#[tonic::async_trait]
impl<F: Function> v1beta1::function_runner_service_server::FunctionRunnerService for V1Beta1<F> {
    async fn run_function(
        &self,
        request: Request<v1beta1::RunFunctionRequest>,
    ) -> Result<Response<v1beta1::RunFunctionResponse>, Status> {
        let req = v1::RunFunctionRequest::decode(request.get_ref().encode_to_vec().as_slice())
            .map_err(|e| {
                Status::invalid_argument(format!("cannot read v1beta1 request as v1: {e}"))
            })?;
        let rsp = self.0.call(&req);
        let rsp = v1beta1::RunFunctionResponse::decode(rsp.encode_to_vec().as_slice())
            .map_err(|e| Status::internal(format!("cannot write v1 response as v1beta1: {e}")))?;
        Ok(Response::new(rsp))
    }
}
