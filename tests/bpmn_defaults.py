"""A purchase request drawn in Camunda Modeler whose generated forms have defaultValues (API and web tests)."""

from __future__ import annotations

from tests.bpmn_samples import process

PURCHASE = process("purchase_defaults", """
  <bpmn:startEvent id="start" name="Request">
    <bpmn:extensionElements><camunda:formData>
      <camunda:formField id="item" label="Item" type="string">
        <camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>
      <camunda:formField id="quantity" label="Quantity" type="long" defaultValue="1" />
      <camunda:formField id="urgent" label="Urgent" type="boolean" defaultValue="true" />
      <camunda:formField id="needed_by" label="Needed by" type="date" defaultValue="24/12/2026" />
      <camunda:formField id="category" label="Category" type="enum" defaultValue="office">
        <camunda:value id="it" name="IT" /><camunda:value id="office" name="Office supplies" /></camunda:formField>
      <camunda:formField id="note" label="Note" type="string" defaultValue="${initiator}" />
    </camunda:formData></bpmn:extensionElements>
    <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="review" name="Review" camunda:assignee="bob">
    <bpmn:extensionElements><camunda:formData>
      <camunda:formField id="budget_line" label="Budget line" type="string" defaultValue="general" />
      <camunda:formField id="approved_quantity" label="Approved quantity" type="long" defaultValue="2" />
    </camunda:formData></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />""")
