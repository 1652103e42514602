"""One compliant resource per engine type, shaped as our program sends it (camelCase engine inputs).

Every case in the rule tests starts from one of these and changes one thing.
"""

from __future__ import annotations

import base64
import json

from tests.policies.harness import document

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shipshape-app"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/shipshape/web"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/visits"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shipshape/api-AbCdEf"
PARAMETER_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shipshape/flag"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipshape-app@sha256:{'a' * 64}"
# An AWS managed policy whose document passes the IAM rules (X-Ray write actions take no ARN).
SCOPED_MANAGED_POLICY = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"

REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"
PUBLIC_REPOSITORY_POLICY = "aws:ecrpublic/repositoryPolicy:RepositoryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
USER_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
GROUP_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CLUSTER = "aws:ecs/cluster:Cluster"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB_LOAD_BALANCER = "aws:alb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ALB_TARGET_GROUP = "aws:alb/targetGroup:TargetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_ENCRYPTION_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
AWSX_FARGATE_SERVICE = "awsx:ecs:FargateService"
AWSX_ALB = "awsx:lb:ApplicationLoadBalancer"
AWSX_REPOSITORY = "awsx:ecr:Repository"
AWSX_FARGATE_TASK_DEFINITION = "awsx:ecs:FargateTaskDefinition"
AWSX_EC2_TASK_DEFINITION = "awsx:ecs:EC2TaskDefinition"
LOG_BUCKET = "shipshape-lb-logs"

PULL_STATEMENT = {
    "Sid": "EcrPullOneRepository",
    "Effect": "Allow",
    "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    "Resource": REPOSITORY_ARN,
}
LOGIN_STATEMENT = {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}

# Everything our builders grant, in one document.
TASK_PERMISSIONS = document(
    LOGIN_STATEMENT,
    PULL_STATEMENT,
    {
        "Sid": "WriteOneLogGroup",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{LOG_GROUP_ARN}:log-stream:*",
    },
    {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": f"{LOG_GROUP_ARN}:*"},
    {
        "Sid": "CountVisits",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        "Resource": TABLE_ARN,
    },
    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [SECRET_ARN]},
    {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [PARAMETER_ARN]},
)

# The scoped equivalent of AmazonSSMManagedInstanceCore for Session Manager.
SESSION_MANAGER_PERMISSIONS = document(
    {
        "Effect": "Allow",
        "Action": [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
            "ec2messages:GetMessages",
        ],
        "Resource": "*",
    }
)

TASK_TRUST = document(
    {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
)

USER_DATA = f"""#!/bin/bash
set -euo pipefail
dnf install -y docker
systemctl enable --now docker
aws ecr get-login-password --region {REGION} \\
  | docker login --username AWS --password-stdin {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com
docker run -d --restart always -p 8000:8000 -e TABLE_NAME=visits {IMAGE}
"""

CONTAINER = {
    "name": "web",
    "image": IMAGE,
    "essential": True,
    "user": "10001",
    "readonlyRootFilesystem": True,
    "privileged": False,
    "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
    "environment": [{"name": "TABLE_NAME", "value": "visits"}, {"name": "API_TOKEN_ARN", "value": SECRET_ARN}],
    "secrets": [{"name": "API_TOKEN", "valueFrom": SECRET_ARN}],
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/shipshape/web", "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
    },
}

COMPLIANT = {
    REPOSITORY: {
        "name": "shipshape-app",
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}],
        "forceDelete": False,
    },
    REPOSITORY_POLICY: {
        "repository": "shipshape-app",
        "policy": document(
            {
                "Sid": "PullFromPartnerAccounts",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ),
    },
    PUBLIC_REPOSITORY_POLICY: {
        "repositoryName": "shipshape",
        "policy": document(
            {
                "Sid": "PushFromCi",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/ci"},
                "Action": ["ecr-public:PutImage", "ecr-public:InitiateLayerUpload"],
            }
        ),
    },
    # pulumi-aws ecr.RepositoryCreationTemplate inputs (sdk/python/pulumi_aws/ecr/repository_creation_template.py).
    CREATION_TEMPLATE: {
        "prefix": "shipshape",
        "appliedFors": ["PULL_THROUGH_CACHE", "REPLICATION"],
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}],
        "customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecr-template",
        "repositoryPolicy": document(
            {
                "Sid": "PullFromPartnerAccounts",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ),
    },
    REGISTRY_POLICY: {
        "policy": document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "ecr:ReplicateImage",
                "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
            }
        )
    },
    REGISTRY_SCANNING: {
        "scanType": "ENHANCED",
        "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}],
    },
    LIFECYCLE_POLICY: {
        "repository": "shipshape-app",
        "policy": json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5},
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    },
    IAM_POLICY: {"name": "task-permissions", "policy": TASK_PERMISSIONS},
    ROLE_POLICY: {"role": "host-role", "policy": SESSION_MANAGER_PERMISSIONS},
    ROLE: {
        "assumeRolePolicy": TASK_TRUST,
        "inlinePolicies": [{"name": "task", "policy": TASK_PERMISSIONS}],
        "managedPolicyArns": [SCOPED_MANAGED_POLICY],
        "maxSessionDuration": 3600,
    },
    ROLE_POLICY_ATTACHMENT: {"role": "host-role", "policyArn": SCOPED_MANAGED_POLICY},
    POLICY_ATTACHMENT: {"name": "xray", "policyArn": SCOPED_MANAGED_POLICY, "roles": ["host-role"]},
    USER_POLICY: {"user": "deployer", "policy": TASK_PERMISSIONS},
    GROUP_POLICY: {"group": "deployers", "policy": TASK_PERMISSIONS},
    USER_POLICY_ATTACHMENT: {"user": "deployer", "policyArn": SCOPED_MANAGED_POLICY},
    GROUP_POLICY_ATTACHMENT: {"group": "deployers", "policyArn": SCOPED_MANAGED_POLICY},
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: {"roleName": "host-role", "policyArns": [SCOPED_MANAGED_POLICY]},
    USER_POLICY_ATTACHMENTS_EXCLUSIVE: {"userName": "deployer", "policyArns": [SCOPED_MANAGED_POLICY]},
    GROUP_POLICY_ATTACHMENTS_EXCLUSIVE: {"groupName": "deployers", "policyArns": [SCOPED_MANAGED_POLICY]},
    INSTANCE: {
        "ami": "ami-0123456789abcdef0",
        "instanceType": "t3.micro",
        "iamInstanceProfile": "host-profile",
        "subnetId": "subnet-private-a",
        "vpcSecurityGroupIds": ["sg-host"],
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 2},
        "rootBlockDevice": {"encrypted": True, "volumeSize": 20, "volumeType": "gp3"},
        "userData": USER_DATA,
        "userDataReplaceOnChange": True,
    },
    LAUNCH_TEMPLATE: {
        "imageId": "ami-0123456789abcdef0",
        "instanceType": "t3.micro",
        "vpcSecurityGroupIds": ["sg-host"],
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 2},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 20}}],
        "userData": base64.b64encode(USER_DATA.encode()).decode(),
    },
    SECURITY_GROUP: {
        "vpcId": "vpc-1",
        "description": "load balancer",
        "ingress": [
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
        ],
        "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
    },
    SECURITY_GROUP_RULE: {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 8000,
        "toPort": 8000,
        "securityGroupId": "sg-app",
        "sourceSecurityGroupId": "sg-alb",
    },
    INGRESS_RULE: {
        "securityGroupId": "sg-alb",
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrIpv4": "0.0.0.0/0",
    },
    CLUSTER: {"settings": [{"name": "containerInsights", "value": "enabled"}]},
    TASK_DEFINITION: {
        "family": "web",
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-execution",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-task",
        "containerDefinitions": json.dumps([CONTAINER]),
    },
    SERVICE: {
        "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shipshape",
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1",
        "desiredCount": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "subnets": ["subnet-private-a"],
            "securityGroups": ["sg-app"],
            "assignPublicIp": False,
        },
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 8000}],
    },
    LISTENER: {
        "loadBalancerArn": "arn:lb",
        "port": 80,
        "protocol": "HTTP",
        "defaultActions": [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
        ],
    },
    LOAD_BALANCER: {
        "loadBalancerType": "application",
        "internal": False,
        "securityGroups": ["sg-alb"],
        "subnets": ["subnet-public-a", "subnet-public-b"],
        "dropInvalidHeaderFields": True,
        "enableDeletionProtection": True,
        "accessLogs": {"bucket": "shipshape-lb-logs", "enabled": True},
    },
    TARGET_GROUP: {
        "port": 8000,
        "protocol": "HTTP",
        "targetType": "ip",
        "vpcId": "vpc-1",
        "healthCheck": {"path": "/health", "matcher": "200"},
    },
    LOG_GROUP: {"name": "/shipshape/web", "retentionInDays": 30},
    # S3, as pulumi-aws's engine inputs (sdk/python/pulumi_aws/s3/*.py).
    BUCKET: {"bucket": LOG_BUCKET, "forceDestroy": False},
    BUCKET_ACL: {"bucket": LOG_BUCKET, "acl": "private"},
    BUCKET_POLICY: {
        "bucket": LOG_BUCKET,
        "policy": document(
            {
                "Sid": "ElbLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
            }
        ),
    },
    PUBLIC_ACCESS_BLOCK: {
        "bucket": LOG_BUCKET,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    },
    OWNERSHIP_CONTROLS: {"bucket": LOG_BUCKET, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
    BUCKET_ENCRYPTION: {
        "bucket": LOG_BUCKET,
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
    },
    # awsx components, as their own inputs (pulumi-awsx awsx/ecs/fargateService.ts, awsx/lb/
    # applicationLoadBalancer.ts, awsx/ecr/repository.ts).
    AWSX_FARGATE_SERVICE: {
        "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shipshape",
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:1",
        "desiredCount": 2,
        "networkConfiguration": {
            "subnets": ["subnet-private-a"],
            "securityGroups": ["sg-app"],
            "assignPublicIp": False,
        },
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    },
    AWSX_ALB: {
        "subnetIds": ["subnet-public-a", "subnet-public-b"],
        "securityGroups": ["sg-alb"],
        "dropInvalidHeaderFields": True,
        "enableDeletionProtection": True,
        "accessLogs": {"bucket": LOG_BUCKET, "enabled": True},
        "listeners": [
            {
                "port": 80,
                "protocol": "HTTP",
                "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}],
            },
            {
                "port": 443,
                "protocol": "HTTPS",
                "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "certificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/c",
            },
        ],
    },
    # pulumi-awsx awsx/ecs/fargateTaskDefinition.ts: `container` or `containers` (name -> container).
    AWSX_FARGATE_TASK_DEFINITION: {
        "containers": {"web": {key: value for key, value in CONTAINER.items() if key != "name"}},
        "cpu": "256",
        "memory": "512",
    },
    AWSX_REPOSITORY: {
        "name": "shipshape-app",
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}],
    },
}
COMPLIANT[ALB_LISTENER] = COMPLIANT[LISTENER]
COMPLIANT[ALB_LOAD_BALANCER] = COMPLIANT[LOAD_BALANCER]
COMPLIANT[ALB_TARGET_GROUP] = COMPLIANT[TARGET_GROUP]
COMPLIANT[AWSX_EC2_TASK_DEFINITION] = {"container": CONTAINER, "networkMode": "awsvpc"}
COMPLIANT[BUCKET_V2] = COMPLIANT[BUCKET]
COMPLIANT[BUCKET_ACL_V2] = COMPLIANT[BUCKET_ACL]
COMPLIANT[BUCKET_ENCRYPTION_V2] = COMPLIANT[BUCKET_ENCRYPTION]
COMPLIANT[ACCOUNT_PUBLIC_ACCESS_BLOCK] = {
    key: value for key, value in COMPLIANT[PUBLIC_ACCESS_BLOCK].items() if key != "bucket"
}

HTTPS_LISTENER = {
    "loadBalancerArn": "arn:lb",
    "port": 443,
    "protocol": "HTTPS",
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "certificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/c",
    "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}],
}
