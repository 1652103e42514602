"""Target tracking for the web service: CPU and requests per target, between min_count and max_count."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.web_service_args import WebServiceArgs


def autoscaling(
    name: str,
    args: WebServiceArgs,
    cluster: aws.ecs.Cluster,
    service: aws.ecs.Service,
    load_balancer: aws.lb.LoadBalancer,
    target_group: aws.lb.TargetGroup,
    child: pulumi.ResourceOptions,
) -> None:
    target = aws.appautoscaling.Target(
        f"{name}-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
        min_capacity=args.min_count,
        max_capacity=args.max_count,
        opts=child,
    )
    common = {
        "service_namespace": target.service_namespace,
        "scalable_dimension": target.scalable_dimension,
        "resource_id": target.resource_id,
        "policy_type": "TargetTrackingScaling",
    }
    aws.appautoscaling.Policy(
        f"{name}-cpu",
        target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=args.cpu_target_percent,
            predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ECSServiceAverageCPUUtilization"
            ),
            scale_in_cooldown=120,
            scale_out_cooldown=30,
        ),
        opts=child,
        **common,
    )
    aws.appautoscaling.Policy(
        f"{name}-requests",
        target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=args.requests_per_target,
            predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ALBRequestCountPerTarget",
                resource_label=pulumi.Output.concat(load_balancer.arn_suffix, "/", target_group.arn_suffix),
            ),
            scale_in_cooldown=120,
            scale_out_cooldown=30,
        ),
        opts=child,
        **common,
    )
