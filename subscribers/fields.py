"""Form fields for the business's own objects, shared by every page that offers a choice of them."""

from django import forms

from nextalerts.phones import phone_display


class SenderNumberChoiceField(forms.ModelChoiceField):
    """A choice of the business's numbers, each written as people read it; the value sent is its id."""

    def label_from_instance(self, number):
        return phone_display(number.phone_number)
